"""Phone number normalisation: one canonical form per number, so search by phone works."""

from __future__ import annotations

import re

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}\d{7,8}$")
_LOCAL = re.compile(r"^[2-8]\d{6,7}$")
_FULLWIDTH = str.maketrans("０１２３４５６７８９＋－", "0123456789+-")


class PhoneError(ValueError):
    """Not a usable Chinese phone number; the message is for the user."""


def normalize_phone(raw: str) -> str:
    """Return digits only: mobiles as 11 digits, landlines with area code (e.g. 01062345678)."""
    text = str(raw).translate(_FULLWIDTH).strip()
    if not text:
        return ""
    digits = re.sub(r"[\s\-()（）]", "", text)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not digits.isdigit():
        raise PhoneError(f"电话号码“{raw}”包含无效字符")
    if _MOBILE.match(digits) or _LANDLINE.match(digits) or _LOCAL.match(digits):
        return digits
    raise PhoneError(f"电话号码“{raw}”格式不正确（手机号11位，座机请带区号）")
