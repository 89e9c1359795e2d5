"""Writing the catalogue: service items and price lists (items.py), providers' licences, contracts
and facilities (providers.py), caregivers and qualifications (staff.py), and the district's service
settings (settings.py). Each action checks who acts, validates everything before writing, and
records the change in the audit log."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from sanshe.core.audit import record_event
from sanshe.core.models import AuditAction


def audit_catalog(acting_user: Any, request: HttpRequest | None, subject: str, detail: dict[str, Any]) -> None:
    """One audit record of a catalogue change (MANAGE_CATALOG)."""
    record_event(acting_user, AuditAction.MANAGE_CATALOG, request=request, subject=subject, detail=detail)
