"""HR_PERSONAL_DATA_KEY: required outside development and test (the service refuses to start, naming
the variable), at least 32 characters, and previous keys listed for rotation."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.hr.settings import HrSettings

KEY = "hr-personal-data-key-for-a-unit-test-0123456789"


@pytest.mark.parametrize("environment", ["production", "staging"])
def test_outside_development_the_service_refuses_to_start_without_a_key(environment, monkeypatch):
    monkeypatch.delenv("HR_PERSONAL_DATA_KEY", raising=False)
    with pytest.raises(ValidationError, match="HR_PERSONAL_DATA_KEY must be set outside development"):
        HrSettings(environment=environment)


def test_outside_development_a_configured_key_is_enough():
    settings = HrSettings(environment="production", personal_data_key=KEY)
    assert settings.personal_data_key is not None and settings.personal_data_key.get_secret_value() == KEY
    assert KEY not in repr(settings)  # a SecretStr: never printed with the settings


def test_a_key_too_short_to_be_random_is_refused():
    with pytest.raises(ValidationError, match="at least 32 characters"):
        HrSettings(environment="production", personal_data_key="password123")


def test_development_and_test_start_without_a_key():
    assert HrSettings(environment="development").personal_data_key is None
    assert HrSettings(environment="test").personal_data_key is None


def test_previous_keys_are_a_comma_separated_list():
    settings = HrSettings(personal_data_key=KEY, personal_data_previous_keys=f" {KEY}-old1 ,{KEY}-old2,")
    assert settings.personal_data_previous_key_list == [f"{KEY}-old1", f"{KEY}-old2"]
