"""Valid identifiers for tests, computed with python-stdnum's check-digit functions."""

from chassis.validators import national_id_with_check_digit, uscc_with_check_digit

VALID_USCC = uscc_with_check_digit("91510100MA61R8XE5")
OTHER_USCC = uscc_with_check_digit("91510100MA62A3B7C")
THIRD_USCC = uscc_with_check_digit("91510112MA6CQK9X1")
VALID_NATIONAL_ID = national_id_with_check_digit("51012219900101123")  # 510122: 双流 (stdnum knows the code)
