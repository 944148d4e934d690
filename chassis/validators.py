"""Identifiers the platform checks with python-stdnum, and how personal data is masked.

- USCC (统一社会信用代码, GB 32100-2015): ``stdnum.cn.uscc``.
- Resident identity card number (居民身份证号, GB 11643): ``stdnum.cn.ric``.

Use the annotated types in request schemas (``uscc: USCC``) so a bad value is a 422 naming the field.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BeforeValidator
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as StdnumError


def _strip(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


def validate_uscc(value: str) -> str:
    try:
        return str(uscc.validate(value))
    except StdnumError as exc:
        raise ValueError(
            "统一社会信用代码无效（应为 18 位且校验位正确） / "
            f"invalid Unified Social Credit Code: {exc}"
        ) from exc


def validate_national_id(value: str) -> str:
    try:
        return str(ric.validate(value))
    except (StdnumError, KeyError) as exc:  # stdnum raises KeyError for some unknown region codes
        raise ValueError(
            f"居民身份证号码无效 / invalid resident identity card number: {exc}"
        ) from exc


def is_valid_uscc(value: str) -> bool:
    return bool(uscc.is_valid(value))


def uscc_with_check_digit(first17: str) -> str:
    """Complete a 17-character USCC body with its check digit (demo data and tests)."""
    return first17 + uscc.calc_check_digit(first17)


def national_id_with_check_digit(first17: str) -> str:
    """Complete a 17-digit resident ID body with its check digit (demo data and tests)."""
    # stdnum's calc_check_digit takes the full number and ignores its last character.
    return first17 + ric.calc_check_digit(first17 + "0")


def mask_national_id(value: str | None) -> str | None:
    """First 6 and last 4 characters shown, the rest starred (e.g. ``110105********002X``)."""
    if not value:
        return value
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


USCC = Annotated[str, BeforeValidator(_strip), AfterValidator(validate_uscc)]
NationalId = Annotated[str, BeforeValidator(_strip), AfterValidator(validate_national_id)]
