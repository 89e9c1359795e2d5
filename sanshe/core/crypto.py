"""The platform's ciphers, built once from the keys in settings."""

from __future__ import annotations

from functools import cache

from django.conf import settings

from sanshe.lib.crypto import FieldCipher, blind_index, decode_key


@cache
def id_cipher() -> FieldCipher:
    return FieldCipher(decode_key(settings.ID_KEY))


@cache
def _index_key() -> bytes:
    return decode_key(settings.INDEX_KEY)


def id_blind_index(number: str) -> str:
    return blind_index(_index_key(), number)
