"""USCC and resident ID numbers are checked by python-stdnum; ID numbers are masked 6 + 4."""

import pytest
from pydantic import BaseModel, ValidationError

from chassis.validators import USCC, NationalId, mask_national_id
from tests.support.validators import VALID_NATIONAL_ID, VALID_USCC


class Enterprise(BaseModel):
    uscc: USCC


class Person(BaseModel):
    id_number: NationalId


def test_a_valid_uscc_is_accepted_and_normalised():
    assert Enterprise(uscc=f" {VALID_USCC.lower()} ").uscc == VALID_USCC


@pytest.mark.parametrize("bad", ["91510100MA61R8XE5X", "123", "", "91510100MA61R8XE5", "I1510100MA61R8XE57"])
def test_a_bad_uscc_is_refused_with_a_chinese_message(bad):
    with pytest.raises(ValidationError) as info:
        Enterprise(uscc=bad)
    assert "统一社会信用代码无效" in str(info.value)


def test_a_resident_id_number_is_checked_and_masked():
    assert Person(id_number=VALID_NATIONAL_ID).id_number == VALID_NATIONAL_ID
    with pytest.raises(ValidationError):
        Person(id_number=VALID_NATIONAL_ID[:-1] + ("0" if VALID_NATIONAL_ID[-1] != "0" else "1"))
    masked = mask_national_id(VALID_NATIONAL_ID)
    assert masked == VALID_NATIONAL_ID[:6] + "********" + VALID_NATIONAL_ID[-4:]
    assert mask_national_id(None) is None
