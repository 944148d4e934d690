"""The report lifecycle: review only what awaits review; a closed period takes revisions only."""

from __future__ import annotations

from datetime import date

import pytest

from services.stats.catalog import BUILT_IN
from services.stats.domain import (
    DomainViolation,
    FiledReport,
    Obligation,
    ReportStatus,
    check_can_accept,
    check_can_resubmit,
    check_can_revise,
    due_date_for,
    due_items,
    implied_obligations,
)
from services.stats.periods import Period

S = ReportStatus


def test_only_a_submitted_report_is_reviewed() -> None:
    check_can_accept(S.SUBMITTED, period_closed=False)
    for status in (S.ACCEPTED, S.RETURNED):
        with pytest.raises(DomainViolation) as exc:
            check_can_accept(status, period_closed=False)
        assert exc.value.kind == "conflict"


def test_a_closed_period_refuses_a_plain_resubmission_but_an_open_one_takes_any() -> None:
    for status in S:
        check_can_resubmit(status, period_closed=False)
    with pytest.raises(DomainViolation) as exc:
        check_can_resubmit(S.RETURNED, period_closed=True)
    assert exc.value.code == "period_closed" and "修订" in exc.value.zh


def test_only_an_accepted_report_is_revised() -> None:
    check_can_revise(S.ACCEPTED)
    with pytest.raises(DomainViolation):
        check_can_revise(S.SUBMITTED)


USCC = "91510100MA6DGXQ125"
MONTHLY = frozenset({"industrial_output_above_scale", "total_tax"})


def test_an_obligated_enterprise_owes_every_finished_month_it_has_not_filed() -> None:
    ob = Obligation("cd-xingu", USCC, MONTHLY | {"talent_count"}, Period.parse("2026-07"))
    filed = [FiledReport("r1", "cd-xingu", USCC, Period.parse("2026-08"), S.ACCEPTED)]
    items = due_items([ob], filed, BUILT_IN, set(), as_of=date(2026, 11, 5))
    monthly = [(str(i.period), i.overdue) for i in items if i.form.value == "month"]
    assert monthly == [("2026-07", True), ("2026-09", True), ("2026-10", False)]  # October is due on 11-10
    quarterly = [str(i.period) for i in items if i.form.value == "quarter"]
    assert quarterly == ["2026-Q3"]
    assert all(i.status == "missing" for i in items)
    assert next(i for i in items if str(i.period) == "2026-10").indicator_codes == tuple(sorted(MONTHLY))


def test_a_returned_report_is_owed_again_with_its_reasons() -> None:
    reasons = ({"indicator_code": "total_tax", "reason": "与税务数据不符"},)
    filed = [FiledReport("r2", "cd-xingu", USCC, Period.parse("2026-09"), S.RETURNED, reasons)]
    [item] = due_items([], filed, BUILT_IN, {("cd-xingu", "2026-09")}, as_of=date(2026, 10, 2))
    assert (item.status, item.report_id, item.period_closed) == ("returned", "r2", True)
    assert item.return_reasons == reasons


def test_filing_a_form_once_means_owing_it_from_then_on() -> None:
    filed = [FiledReport("r3", "cd-xingu", USCC, Period.parse("2026-09"), S.ACCEPTED)]
    implied = implied_obligations(filed, {"r3": ["total_tax"]})
    items = due_items(implied, filed, BUILT_IN, set(), as_of=date(2026, 12, 1))
    assert [str(i.period) for i in items] == ["2026-10", "2026-11"]


def test_looking_back_is_bounded() -> None:
    ob = Obligation("cd-xingu", USCC, frozenset({"total_tax"}), Period.parse("2020-01"))
    items = due_items([ob], [], BUILT_IN, set(), as_of=date(2026, 11, 5))
    assert len(items) == 12 and str(items[0].period) == "2025-11"


def test_due_dates() -> None:
    assert due_date_for(Period.parse("2026-12"), 10) == date(2027, 1, 10)
    assert due_date_for(Period.parse("2026-Q3"), 15) == date(2026, 10, 15)
