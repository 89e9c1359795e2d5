"""Masked display of personal data (PIPL): what lists, exports and public notices show."""

from __future__ import annotations


def mask_name(name: str) -> str:
    """张三丰 → 张*丰, 李四 → 李*, 欧阳娜娜 → 欧**娜."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_id_number(number: str) -> str:
    """110105194912310021 → 110105********0021 (area code and last four kept)."""
    if len(number) < 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_phone(phone: str) -> str:
    """13812345678 → 138****5678; landlines keep the area code and last four."""
    if len(phone) < 7:
        return phone[:1] + "*" * (len(phone) - 1) if phone else phone
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
