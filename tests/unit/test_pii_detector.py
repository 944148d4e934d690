"""The detector behind the personal-data scan (tests/support/pii.py): what counts as an unmasked
national ID number and what does not."""

from __future__ import annotations

from chassis.validators import national_id_with_check_digit, uscc_with_check_digit
from tests.support.pii import findings, national_ids_in

VALID = national_id_with_check_digit("11010519900307123")  # 110105199003071239
VALID_X = national_id_with_check_digit("11010519491231002")  # ends in X


def test_a_valid_national_id_is_found_wherever_it_stands_in_text():
    assert national_ids_in(f'{{"national_id":"{VALID}"}}') == [VALID]
    assert national_ids_in(f"身份证号{VALID}已登记") == [VALID]
    assert national_ids_in(f"/staff?id={VALID}&x=1") == [VALID]


def test_an_id_of_a_district_missing_from_stdnums_region_table_is_found():
    chengdu_jinjiang = national_id_with_check_digit("51010419851231002")
    assert national_ids_in(chengdu_jinjiang) == [chengdu_jinjiang]


def test_an_eighteen_digit_number_without_a_birth_date_is_not_an_id():
    no_date = national_id_with_check_digit("11010519901399123")  # month 13
    assert national_ids_in(no_date) == []


def test_an_id_ending_in_x_is_found_in_either_case():
    assert VALID_X.endswith("X")
    assert national_ids_in(VALID_X.lower()) == [VALID_X]


def test_a_masked_id_is_not_found():
    assert national_ids_in(f"{VALID[:6]}********{VALID[-4:]}") == []


def test_a_uscc_is_not_an_id():
    assert national_ids_in(uscc_with_check_digit("91510100MA61XY0K8")) == []


def test_a_number_with_a_wrong_check_digit_is_not_an_id():
    wrong = VALID[:-1] + ("0" if VALID[-1] != "0" else "1")
    assert national_ids_in(wrong) == []


def test_an_id_inside_a_longer_run_of_letters_and_digits_is_not_an_id():
    assert national_ids_in(f"A{VALID}") == []
    assert national_ids_in(f"{VALID}0") == []
    assert national_ids_in(f"9{VALID}") == []


def test_a_finding_shows_the_id_only_masked():
    (found,) = findings(f"x {VALID} y", "somewhere")
    assert found.shown == f"{VALID[:6]}********{VALID[-4:]}"
    assert VALID not in found.describe()
    assert "somewhere" in found.describe()
