"""Chain roles (补链 / 强链 / 扩链), coordination issue moves and funds periods."""

from __future__ import annotations

from datetime import date

import pytest

from services.investment.domain import (
    ChainRole,
    IllegalIssueAction,
    IssueAction,
    IssueStatus,
    NodeStatus,
    Stage,
    days_overdue,
    derive_chain_role,
    funds_accepted_in,
    is_overdue,
    issue_after,
    parse_period,
    period_is_future,
)


@pytest.mark.parametrize(
    ("status", "role"),
    [(NodeStatus.MISSING, ChainRole.FILL), (NodeStatus.WEAK, ChainRole.STRENGTHEN), (NodeStatus.PRESENT, ChainRole.EXTEND),
     (None, None)],
)
def test_the_chain_role_follows_the_zone_s_status_on_the_node(status, role):
    assert derive_chain_role(status) == role


def test_the_roles_are_the_seed_s_words():
    assert [r.value for r in ChainRole] == ["补链", "强链", "扩链"]


def test_issue_moves():
    assert issue_after(IssueStatus.OPEN, IssueAction.ACKNOWLEDGE) == IssueStatus.ACKNOWLEDGED
    assert issue_after(IssueStatus.ACKNOWLEDGED, IssueAction.ESCALATE, escalation_level=1) == IssueStatus.ESCALATED
    assert issue_after(IssueStatus.ESCALATED, IssueAction.ACKNOWLEDGE) == IssueStatus.ACKNOWLEDGED
    assert issue_after(IssueStatus.ESCALATED, IssueAction.RESOLVE) == IssueStatus.RESOLVED
    with pytest.raises(IllegalIssueAction):
        issue_after(IssueStatus.ACKNOWLEDGED, IssueAction.ACKNOWLEDGE)
    for action in IssueAction:
        with pytest.raises(IllegalIssueAction):
            issue_after(IssueStatus.RESOLVED, action)
    with pytest.raises(IllegalIssueAction) as exc:
        issue_after(IssueStatus.ESCALATED, IssueAction.ESCALATE, escalation_level=3, max_level=3)
    assert exc.value.reason == "max_level"


def test_an_issue_is_overdue_after_its_due_date_until_resolved():
    today = date(2026, 5, 10)
    assert not is_overdue(IssueStatus.OPEN, date(2026, 5, 10), today)
    assert is_overdue(IssueStatus.ESCALATED, date(2026, 5, 7), today)
    assert days_overdue(IssueStatus.OPEN, date(2026, 5, 7), today) == 3
    assert not is_overdue(IssueStatus.RESOLVED, date(2026, 1, 1), today)


@pytest.mark.parametrize("bad", ["2026-13", "2026-00", "2026-1", "26-01", "2026/01", "abcd-ef", "1999-12", ""])
def test_a_period_is_yyyy_mm(bad):
    with pytest.raises(ValueError):
        parse_period(bad)


def test_periods_in_the_future_and_stages_that_take_funds():
    assert parse_period("2026-03") == (2026, 3)
    assert period_is_future("2026-12", date(2026, 11, 30)) and not period_is_future("2026-11", date(2026, 11, 1))
    assert [s for s in Stage if funds_accepted_in(s)] == [
        Stage.SIGNED, Stage.REGISTERED, Stage.LAND_SECURED, Stage.UNDER_CONSTRUCTION, Stage.IN_OPERATION
    ]
