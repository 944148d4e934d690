"""Headcount quota, posts and appointment capacity, identity rules and terms — at and over each edge."""

from __future__ import annotations

from datetime import date

import pytest

from services.hr import domain
from services.hr.domain import Capacity, Identity, IdentityRecord, InvalidInput, LimitExceeded


def capacity(**overrides: object) -> Capacity:
    values: dict[str, object] = dict(
        position_title="招商经理", position_posts=3, position_filled=2,
        department_name="招商部", department_allocation=5, department_filled=4,
        total_quota=20, total_filled=19,
    )
    values.update(overrides)
    return Capacity(**values)  # type: ignore[arg-type]


class TestQuotaAllocations:
    def test_allocations_adding_up_exactly_to_the_total_are_accepted(self) -> None:
        domain.check_allocations(10, {"a": 6, "b": 4})

    def test_one_over_the_total_is_refused_with_the_figures(self) -> None:
        with pytest.raises(LimitExceeded) as exc:
            domain.check_allocations(10, {"a": 6, "b": 5})
        assert exc.value.figures == {"total_quota": 10, "allocated": 11, "excess": 1}
        assert exc.value.breaches[0].field == "allocations"

    def test_an_allocation_may_fall_to_the_people_serving_but_not_below(self) -> None:
        assert domain.check_allocation_covers_filled("招商部", 3, 3, field="allocations.0.allocation") is None
        breach = domain.check_allocation_covers_filled("招商部", 2, 3, field="allocations.0.allocation")
        assert breach is not None and breach.figures == {"department": "招商部", "allocation": 2, "filled": 3}


class TestPosts:
    def test_a_position_may_take_the_department_allocation_up_to_its_last_post(self) -> None:
        domain.check_department_posts("招商部", 5, posts_elsewhere=3, requested_posts=2)

    def test_one_post_beyond_the_allocation_is_refused_with_the_figures(self) -> None:
        with pytest.raises(LimitExceeded) as exc:
            domain.check_department_posts("招商部", 5, posts_elsewhere=3, requested_posts=3)
        assert exc.value.figures["would_total"] == 6
        assert exc.value.figures["excess"] == 1
        assert exc.value.field == "posts"

    def test_a_position_cannot_shrink_below_the_people_holding_it(self) -> None:
        domain.check_posts_cover_filled(2, 2)
        with pytest.raises(LimitExceeded):
            domain.check_posts_cover_filled(1, 2)


class TestAppointmentCapacity:
    def test_the_last_free_post_can_be_filled(self) -> None:
        domain.check_appointment_capacity(capacity())

    @pytest.mark.parametrize(
        ("overrides", "limit"),
        [
            ({"position_filled": 3}, "position_posts"),
            ({"department_filled": 5}, "department_allocation"),
            ({"total_filled": 20}, "total_quota"),
        ],
    )
    def test_each_limit_refuses_one_more_appointment(self, overrides: dict[str, int], limit: str) -> None:
        with pytest.raises(LimitExceeded) as exc:
            domain.check_appointment_capacity(capacity(**overrides))
        assert [b.limit for b in exc.value.breaches] == [limit]
        assert exc.value.figures["position"] == {"title": "招商经理", "posts": 3, "filled": overrides.get("position_filled", 2)}

    def test_every_exceeded_limit_is_named_at_once(self) -> None:
        with pytest.raises(LimitExceeded) as exc:
            domain.check_appointment_capacity(capacity(position_filled=3, department_filled=5, total_filled=20))
        assert [b.limit for b in exc.value.breaches] == ["position_posts", "department_allocation", "total_quota"]
        assert "职数 3" in exc.value.zh and "员额总数 20" in exc.value.zh


class TestHeadcountSummary:
    def test_vacancies_are_allocation_minus_filled_per_department_and_in_total(self) -> None:
        summary = domain.headcount_summary(
            "cd-xingu",
            30,
            [
                domain.DepartmentCount("d1", "planning", "规划建设部", 10, 8, 7),
                domain.DepartmentCount("d2", "strategy", "战略研究部", 8, 6, 2),
            ],
        )
        assert summary["total_quota"] == 30 and summary["total_filled"] == 9 and summary["total_vacancies"] == 21
        assert [d["vacancies"] for d in summary["departments"]] == [3, 6]
        assert set(summary["departments"][0]) >= {"department_id", "name", "allocation", "filled", "vacancies"}


class TestIdentity:
    def test_locked_identity_needs_the_original_establishment(self) -> None:
        for identity in (Identity.CIVIL_SERVANT, Identity.INSTITUTION):
            assert [f for f, _, _ in domain.identity_errors(IdentityRecord(identity))] == ["original_establishment"]
            assert domain.identity_errors(IdentityRecord(identity, original_establishment="双流区发改局（行政编制）")) == []

    def test_contract_staff_need_a_contract_term_that_ends_after_it_starts(self) -> None:
        assert {f for f, _, _ in domain.identity_errors(IdentityRecord(Identity.CONTRACT))} == {"contract_start", "contract_end"}
        backwards = IdentityRecord(Identity.CONTRACT, contract_start=date(2025, 1, 1), contract_end=date(2024, 12, 31))
        assert [f for f, _, _ in domain.identity_errors(backwards)] == ["contract_end"]

    def test_seconded_staff_name_their_sending_unit_and_others_do_not(self) -> None:
        assert [f for f, _, _ in domain.identity_errors(IdentityRecord(Identity.SECONDED))] == ["sending_unit"]
        contract_with_unit = IdentityRecord(
            Identity.CONTRACT, contract_start=date(2025, 1, 1), contract_end=date(2027, 1, 1), sending_unit="高新区"
        )
        assert [f for f, _, _ in domain.identity_errors(contract_with_unit)] == ["sending_unit"]

    def test_contract_staff_are_appointed_up_to_their_contract_end_and_not_a_day_beyond(self) -> None:
        record = IdentityRecord(Identity.CONTRACT, contract_start=date(2025, 1, 1), contract_end=date(2027, 12, 31))
        domain.check_term_fits_identity(record, date(2025, 1, 1), date(2027, 12, 31))
        with pytest.raises(LimitExceeded) as exc:
            domain.check_term_fits_identity(record, date(2025, 1, 1), date(2028, 1, 1))
        assert exc.value.figures["contract_end"] == "2027-12-31"
        assert exc.value.field == "term_end"

    def test_seconded_staff_are_not_appointed_beyond_the_secondment(self) -> None:
        record = IdentityRecord(Identity.SECONDED, sending_unit="双流区大健康办", secondment_end=date(2026, 6, 30))
        domain.check_term_fits_identity(record, date(2025, 1, 1), date(2026, 6, 30))
        with pytest.raises(LimitExceeded):
            domain.check_term_fits_identity(record, date(2025, 1, 1), date(2026, 7, 1))

    def test_a_term_ending_before_it_starts_is_invalid_input(self) -> None:
        with pytest.raises(InvalidInput) as exc:
            domain.check_term_fits_identity(IdentityRecord(Identity.INSTITUTION, "x"), date(2025, 2, 1), date(2025, 1, 1))
        assert exc.value.field == "term_end"


class TestTerms:
    def test_a_term_of_n_months_ends_the_day_before_the_same_date_n_months_later(self) -> None:
        assert domain.term_end_for(date(2025, 1, 1), 36) == date(2027, 12, 31)
        assert domain.term_end_for(date(2025, 3, 15), 12) == date(2026, 3, 14)
