"""The approval rules without I/O: the state machine (every illegal transition), bundles, the one-time
correction notice, notify-and-commit eligibility, evaluation levels and item codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.approvals.catalog_data import MATERIALS, SEED_ITEMS
from services.approvals.domain import (
    Action,
    ApplicationFacts,
    CorrectionPhase,
    IllegalTransition,
    ItemTerms,
    MaterialState,
    PreviousNotice,
    ProjectAdmission,
    Status,
    VerificationOutcome,
    allowed_actions,
    check_correction,
    combine,
    commitment_eligibility,
    evaluation_level,
    item_type_code,
    needs_follow_up,
    next_status,
    not_resubmitted,
)

# (status, correction phase, commitment pending, evaluated) → every legal action and where it leads.
TABLE = [
    (ApplicationFacts(Status.SUBMITTED), {
        Action.ACCEPT: Status.ACCEPTED, Action.REFUSE: Status.REFUSED,
        Action.REQUEST_CORRECTION: Status.CORRECTION_REQUESTED, Action.ASSIGN: Status.SUBMITTED}),
    (ApplicationFacts(Status.CORRECTION_REQUESTED, CorrectionPhase.INTAKE), {
        Action.RESUBMIT: Status.SUBMITTED, Action.REFUSE: Status.REFUSED, Action.ASSIGN: Status.CORRECTION_REQUESTED}),
    (ApplicationFacts(Status.CORRECTION_REQUESTED, CorrectionPhase.REVIEW), {
        Action.RESUBMIT: Status.ACCEPTED, Action.DENY: Status.DENIED, Action.ASSIGN: Status.CORRECTION_REQUESTED}),
    (ApplicationFacts(Status.ACCEPTED), {
        Action.APPROVE: Status.APPROVED, Action.DENY: Status.DENIED,
        Action.REQUEST_CORRECTION: Status.CORRECTION_REQUESTED, Action.ASSIGN: Status.ACCEPTED}),
    (ApplicationFacts(Status.APPROVED), {Action.COMPLETE: Status.COMPLETED, Action.ASSIGN: Status.APPROVED}),
    (ApplicationFacts(Status.APPROVED, commitment_pending=True), {
        Action.COMPLETE: Status.COMPLETED, Action.ASSIGN: Status.APPROVED, Action.VERIFY: Status.APPROVED}),
    (ApplicationFacts(Status.COMPLETED), {Action.EVALUATE: Status.COMPLETED}),
    (ApplicationFacts(Status.COMPLETED, evaluated=True), {}),
    (ApplicationFacts(Status.COMPLETED, commitment_pending=True), {
        Action.EVALUATE: Status.COMPLETED, Action.VERIFY: Status.COMPLETED}),
    (ApplicationFacts(Status.REFERRED), {}),
    (ApplicationFacts(Status.REFUSED), {}),
    (ApplicationFacts(Status.DENIED), {}),
    (ApplicationFacts(Status.REVOKED), {}),
]
CASES = [(facts, action, legal.get(action)) for facts, legal in TABLE for action in Action]


@pytest.mark.parametrize(("facts", "action", "expected"), CASES, ids=[f"{f.status}-{f.correction_phase}-{f.commitment_pending}-{f.evaluated}-{a}" for f, a, _ in CASES])
def test_every_action_in_every_state_is_either_legal_with_its_target_or_refused_naming_the_allowed_ones(facts, action, expected):
    if expected is None:
        with pytest.raises(IllegalTransition) as info:
            next_status(facts, action)
        assert info.value.status is facts.status
        assert action not in info.value.allowed
        assert info.value.allowed == allowed_actions(facts)
    else:
        assert next_status(facts, action, outcome=VerificationOutcome.CONFIRMED) is expected


def test_every_status_is_covered_by_the_table():
    assert {f.status for f, _ in TABLE} == set(Status)


def test_a_revoked_commitment_ends_the_application():
    facts = ApplicationFacts(Status.COMPLETED, commitment_pending=True)
    assert next_status(facts, Action.VERIFY, outcome=VerificationOutcome.REVOKED) is Status.REVOKED


def terms(code: str, promised: int, statutory: int, materials, commitment=False, window=None) -> ItemTerms:  # type: ignore[no-untyped-def]
    return ItemTerms(code, code, statutory, promised, commitment, window, tuple(materials))


def test_a_bundle_takes_the_longest_limits_each_material_once_mandatory_if_any_item_requires_it():
    a = terms("A", 7, 20, [("form", "申请表", True), ("licence", "营业执照", False)], True, 30)
    b = terms("B", 3, 7, [("form", "申请表", True), ("licence", "营业执照", True), ("plan", "方案", True)], True, 20)
    bundle = combine([a, b])
    assert (bundle.promised_days, bundle.statutory_days) == (7, 20)
    assert bundle.materials == {"form": ("申请表", True), "licence": ("营业执照", True), "plan": ("方案", True)}
    assert bundle.verification_window_days == 20
    with pytest.raises(ValueError):
        combine([])


T0 = datetime(2026, 11, 2, 2, tzinfo=UTC)


def materials(**provided: datetime | None) -> dict[str, MaterialState]:
    return {c: MaterialState(c, c, True, at) for c, at in provided.items()}


def test_a_first_notice_may_name_anything_the_items_require_but_nothing_else_and_nothing_twice():
    have = materials(form=T0, plan=None)
    assert check_correction(["form", "plan"], have, None) == []
    problems = check_correction(["form", "form", "drawings"], have, None)
    assert [(p.index, p.kind) for p in problems] == [(1, "duplicate"), (2, "unknown_material")]


def test_a_second_notice_cannot_ask_for_what_was_already_present_when_the_first_went_out():
    notice = PreviousNotice(T0 + timedelta(hours=1), frozenset({"plan"}))
    have = materials(form=T0, plan=T0 + timedelta(hours=3), report=T0 + timedelta(hours=2), missing=None)
    problems = check_correction(["form"], have, notice)
    assert [(p.code, p.kind) for p in problems] == [("form", "already_present")]
    assert "一次性告知" in problems[0].zh
    # What the first notice named may be named again; what came in since may be named; what never came may be.
    assert check_correction(["plan", "report", "missing"], have, notice) == []


def test_a_resubmission_must_bring_everything_the_notice_named():
    notice_at = T0 + timedelta(hours=1)
    have = materials(form=T0, plan=T0 + timedelta(hours=2))
    assert not_resubmitted(["plan"], have, notice_at) == []
    assert not_resubmitted(["form", "plan", "gone"], have, notice_at) == ["form", "gone"]


def test_commitment_needs_every_item_to_allow_it():
    ok = terms("OK", 5, 10, [], True, 20)
    no = terms("NO", 5, 10, [], False)
    assert commitment_eligibility([ok], project_id=None, project=None, applicant_uscc="X", zone_id="z").eligible
    result = commitment_eligibility([ok, no], project_id=None, project=None, applicant_uscc="X", zone_id="z")
    assert not result.eligible
    assert [(r.code, r.field) for r in result.reasons] == [("item_not_allowed", "item_codes.1")]


def test_commitment_for_a_project_needs_its_latest_admission_check_to_have_passed():
    item = terms("OK", 5, 10, [], True, 20)

    def check(project, project_id="P1"):  # type: ignore[no-untyped-def]
        return commitment_eligibility([item], project_id=project_id, project=project, applicant_uscc="U1", zone_id="z1")

    assert [r.code for r in check(None).reasons] == ["project_unknown"]
    passed = ProjectAdmission("P1", "z1", "U1", "芯片项目", True)
    assert check(passed).eligible
    failed = ProjectAdmission("P1", "z1", "U1", "芯片项目", False, ("投资强度不足 300 万元/亩",))
    result = check(failed)
    assert [r.code for r in result.reasons] == ["admission_failed"] and "投资强度不足" in result.reasons[0].zh
    assert [r.code for r in check(ProjectAdmission("P1", "z1", "U1", None, None)).reasons] == ["admission_not_checked"]
    elsewhere = ProjectAdmission("P1", "z2", "U2", None, True)
    assert {r.code for r in check(elsewhere).reasons} == {"project_of_other_enterprise", "project_in_other_zone"}


def test_evaluation_levels_are_the_national_five_and_two_or_less_needs_a_follow_up():
    assert [evaluation_level(s)[1] for s in (5, 4, 3, 2, 1)] == ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
    assert [needs_follow_up(s) for s in (5, 4, 3, 2, 1)] == [False, False, False, True, True]
    with pytest.raises(ValueError):
        evaluation_level(6)


def test_item_codes_follow_the_national_pattern_and_the_seeded_catalog_is_realistic():
    assert item_type_code("62052400MZ-XK-0001") == "XK"
    assert item_type_code("51011600FG-BA-0001") == "BA"
    assert item_type_code("51011600FG-XX-0001") is None and item_type_code("FG-XK-1") is None
    assert len(SEED_ITEMS) >= 20
    assert len({i.code for i in SEED_ITEMS}) == len(SEED_ITEMS)
    types = {item_type_code(i.code) for i in SEED_ITEMS}
    assert {"XK", "BA", "QR", "JF", "GG"} <= types
    assert any(i.promised_days == 0 for i in SEED_ITEMS) and any(i.on_site_visits == 1 for i in SEED_ITEMS)
    for item in SEED_ITEMS:
        assert item.promised_days <= item.statutory_days, item.code
        assert not item.commitment_allowed or item.verification_window_days, item.code
        assert all(code in MATERIALS for code, _ in item.materials), item.code
