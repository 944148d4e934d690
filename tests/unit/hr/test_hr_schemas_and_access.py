"""Input validation of national ID numbers, masking, who may unmask, and how broken rules become problems."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError
from stdnum.cn import ric

from chassis.auth import Principal
from chassis.errors import Conflict, Unprocessable
from chassis.validators import mask_national_id, national_id_with_check_digit
from services.hr.access import can_unmask, personal_scope, to_problem
from services.hr.domain import Breach, InvalidInput, LimitExceeded
from services.hr.schemas import StaffIn
from services.hr.seed import ZONES, demo_national_id

VALID = national_id_with_check_digit("51012219900101123")


def staff_in(national_id: str) -> StaffIn:
    return StaffIn.model_validate(
        {"name": "张三", "national_id": national_id, "identity": "contract", "contract_start": date(2025, 1, 1),
         "contract_end": date(2027, 1, 1)}
    )


def principal(*roles: str, dept: str | None = None, kind: str = "staff") -> Principal:
    return Principal(subject="u", kind=kind, roles=frozenset(roles), zone_id="z", department=dept)


class TestNationalIdInput:
    def test_a_valid_number_is_accepted_and_normalised(self) -> None:
        assert staff_in(VALID.lower()).national_id == VALID

    @pytest.mark.parametrize(
        "bad",
        [
            VALID[:-1] + ("0" if VALID[-1] != "0" else "1"),  # wrong check digit
            VALID[:-1],  # 17 characters
            "51012219901301123" + "1",  # month 13
            national_id_with_check_digit("51010919900101123"),  # 510109: python-stdnum raises KeyError here
            national_id_with_check_digit("99999919900101123"),  # unknown region
            "ABCDEFGHIJKLMNOPQR",
        ],
    )
    def test_invalid_numbers_are_refused_as_a_validation_error_on_the_field(self, bad: str) -> None:
        with pytest.raises(ValidationError) as exc:
            staff_in(bad)
        errors = exc.value.errors()
        assert [e["loc"] for e in errors] == [("national_id",)]
        assert "居民身份证号码无效" in str(errors[0]["msg"])
        assert bad not in str(errors[0]["msg"])

    def test_every_demo_number_is_valid(self) -> None:
        for zone in ZONES:
            for person in zone.people:
                assert ric.is_valid(demo_national_id(person.id_body)), person.name


class TestMasking:
    def test_the_first_six_and_last_four_are_shown(self) -> None:
        assert mask_national_id(VALID) == VALID[:6] + "********" + VALID[-4:]

    @pytest.mark.parametrize(
        ("who", "unmasked"),
        [
            (principal("hr-admin"), True),
            (principal(kind="admin"), True),
            (principal("dept-head", dept="planning"), False),
            (principal("leader"), False),
            (principal("auditor"), False),
            (principal("stats"), False),
            (principal(), False),
        ],
    )
    def test_only_hr_administrators_see_numbers_unmasked(self, who: Principal, unmasked: bool) -> None:
        assert can_unmask(who) is unmasked

    def test_a_department_head_reads_their_department_and_staff_only_themselves(self) -> None:
        assert personal_scope(principal("hr-admin"), "z").everyone
        head = personal_scope(principal("dept-head", dept="planning"), "z")
        assert head.department_code == "planning" and not head.everyone
        assert personal_scope(principal(), "z").account == "u"


class TestProblems:
    def test_a_limit_becomes_409_with_each_breach_as_a_field_error_and_the_figures(self) -> None:
        violation = LimitExceeded(
            "超出", "over", breaches=[Breach("position_posts", "position_id", "职数已满", "posts full", {"posts": 1})],
            figures={"posts": 1},
        )
        problem = to_problem(violation)
        assert isinstance(problem, Conflict) and problem.status == 409
        assert problem.errors[0]["field"] == "position_id" and problem.errors[0]["code"] == "position_posts"
        assert problem.extra["figures"] == {"posts": 1} and problem.extra["limits"] == ["position_posts"]

    def test_invalid_input_becomes_422_naming_the_field(self) -> None:
        problem = to_problem(InvalidInput("权重之和应为 100%", "weights", field="weights"))
        assert isinstance(problem, Unprocessable) and problem.errors[0]["field"] == "weights"
