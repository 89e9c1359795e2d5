"""Helpers the catalogue's pages share: which district a page shows, and the one call that turns
an action's refusal into messages on the form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.db.models import QuerySet

from sanshe.accounts.http import AuthedRequest
from sanshe.accounts.models import Region
from sanshe.catalog import access
from sanshe.catalog.forms import attach_errors
from sanshe.core.errors import UserError, ValidationFailed

T = TypeVar("T")


def page_district(request: AuthedRequest, districts: QuerySet[Region]) -> Region:
    """The district a page shows: ?district=<code> among those allowed, else the first."""
    return access.pick_district(districts, request.GET.get("district", "") or request.POST.get("district", ""))


def run(form: forms.Form, action: Callable[[], T]) -> T | None:
    """Call the action; on refusal put its messages on the form and return None."""
    try:
        return action()
    except ValidationFailed as exc:
        attach_errors(form, exc)
    except UserError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    return None


def context_districts(request: AuthedRequest, districts: QuerySet[Region], chosen: Region) -> dict[str, Any]:
    found = list(districts)
    return {"districts": found if len(found) > 1 else [], "district": chosen}
