"""Accounts, logins, subscriptions and retries: the gateway's rules without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chassis.errors import Unprocessable
from gateway.domain import (
    LoginState,
    after_failed_login,
    after_successful_login,
    check_account_shape,
    check_event_types,
    check_password_strength,
    event_matches,
    is_locked,
    retry_delay_s,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REVOKED = "zone.approvals.application.commitment_revoked.v1"
COMPLETED = "zone.approvals.application.completed.v1"


def test_the_fifth_wrong_password_in_a_row_locks_the_account_for_the_lockout_period():
    state = LoginState(0, None)
    for _ in range(4):
        state = after_failed_login(state, NOW, max_failures=5, lockout=timedelta(minutes=15))
        assert not is_locked(state, NOW)
    state = after_failed_login(state, NOW, max_failures=5, lockout=timedelta(minutes=15))
    assert is_locked(state, NOW + timedelta(minutes=14))
    assert not is_locked(state, NOW + timedelta(minutes=15, seconds=1))


def test_a_successful_login_clears_the_failures():
    assert after_successful_login() == LoginState(0, None)


def test_staff_carry_known_roles_and_a_department_only_within_a_zone():
    check_account_shape("staff", roles=["approvals"], zone_id="cd-xingu", department="approvals", uscc=None)
    check_account_shape("staff", roles=["leader"], zone_id=None, department=None, uscc=None)  # city level
    with pytest.raises(Unprocessable) as info:
        check_account_shape("staff", roles=["superuser"], zone_id="cd-xingu", department=None, uscc=None)
    assert info.value.errors[0]["field"] == "roles"
    with pytest.raises(Unprocessable) as info:
        check_account_shape("staff", roles=[], zone_id=None, department="approvals", uscc=None)
    assert info.value.errors[0]["field"] == "department"


def test_an_enterprise_is_bound_to_a_uscc_and_has_no_zone_or_roles():
    check_account_shape("enterprise", roles=[], zone_id=None, department=None, uscc="91510100MA6DGXQ125")
    with pytest.raises(Unprocessable) as info:
        check_account_shape("enterprise", roles=["approvals"], zone_id="cd-xingu", department=None, uscc=None)
    assert {e["field"] for e in info.value.errors} == {"uscc", "zone_id", "roles"}


@pytest.mark.parametrize("password", ["short1", "onlyletters", "1234567890"])
def test_weak_passwords_are_refused(password):
    with pytest.raises(Unprocessable) as info:
        check_password_strength(password)
    assert info.value.errors[0]["field"] == "password"


def test_a_client_subscribes_only_to_the_types_it_was_granted():
    check_event_types([REVOKED], [REVOKED], {REVOKED, COMPLETED})
    with pytest.raises(Unprocessable) as info:
        check_event_types([REVOKED, COMPLETED], [REVOKED], {REVOKED, COMPLETED})
    assert info.value.errors[0]["field"] == "event_types.1"
    assert info.value.errors[0]["code"] == "not_allowed"
    with pytest.raises(Unprocessable) as info:
        check_event_types(["zone.approvals.application.exploded.v1"], None, {REVOKED})
    assert info.value.errors[0]["code"] == "unknown"
    with pytest.raises(Unprocessable):
        check_event_types(["not an event type"], None, None)


def event(**data: object) -> dict[str, object]:
    return {"type": COMPLETED, "subject": "app-1", "zoneid": "cd-xingu", "source": "/zone-platform/approvals", "data": data}


def test_filters_on_subject_zone_and_data_fields_must_all_match():
    e = event(item_codes=["XK-001", "XK-002"], on_time=True, uscc="91510100MA6DGXQ125")
    assert event_matches({}, e)
    assert event_matches({"zoneid": "cd-xingu", "subject": "app-1"}, e)
    assert not event_matches({"zoneid": "tf-biotown"}, e)
    assert event_matches({"data": {"item_codes": "XK-002"}}, e)  # a list field contains the value
    assert not event_matches({"data": {"item_codes": "XK-009"}}, e)
    assert event_matches({"data": {"on_time": "true", "uscc": "91510100MA6DGXQ125"}}, e)
    assert not event_matches({"data": {"missing.field": "x"}}, e)


def test_retries_back_off_exponentially_up_to_a_cap():
    assert [retry_delay_s(n, base_s=10, max_s=60) for n in range(1, 6)] == [10, 20, 40, 60, 60]
