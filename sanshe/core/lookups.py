"""Checked look-ups by an id from a URL or a request body: anything that is not an integer, and
any row outside the queryset the caller may see, is the same 404 ("missing" and "not yours")."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import Http404

M = TypeVar("M", bound=Model)


def pk_or_404(value: Any, message: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404(message) from None


def get_or_404(qs: QuerySet[M], raw_id: Any, not_found: str) -> M:
    found = qs.filter(pk=pk_or_404(raw_id, not_found)).first()
    if found is None:
        raise Http404(not_found)
    return found
