"""Chinese names: pinyin initials for search ("zsf" finds 张三丰)."""

from __future__ import annotations

import functools

from pypinyin import Style, lazy_pinyin


@functools.lru_cache(maxsize=65536)
def pinyin_initials(name: str) -> str:
    """Lower-case initials of each character's most common reading; non-Han kept as is."""
    letters = lazy_pinyin(name, style=Style.FIRST_LETTER, errors="default")
    return "".join(part[:1] for part in letters if part).lower()


def is_pinyin_query(text: str) -> bool:
    return text.isascii() and text.isalpha()
