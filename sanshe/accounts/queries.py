"""Audit log search, shared by the audit page and the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from sanshe.accounts.access import has_capability
from sanshe.accounts.models import Capability
from sanshe.core.models import AuditEvent


def search_audit_events(
    user: Any,
    *,
    actor: str = "",
    action: str = "",
    person_id: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[AuditEvent]:
    """Audit records an auditor may search; everyone else is refused."""
    if not has_capability(user, Capability.VIEW_AUDIT):
        raise PermissionDenied("只有审计员可以查询审计日志")
    qs = AuditEvent.objects.all()
    if actor:
        qs = qs.filter(actor_name__contains=actor) | qs.filter(actor__username=actor)
    if action:
        qs = qs.filter(action=action)
    if person_id:
        qs = qs.filter(person_id=person_id)
    if date_from:
        qs = qs.filter(at__date__gte=date_from)
    if date_to:
        qs = qs.filter(at__date__lte=date_to)
    return qs.order_by("-at", "-id")
