"""Writing audit records. Every view, reveal and export of personal data calls record_event."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from sanshe.core.models import AuditAction, AuditEvent, Channel


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def record_event(
    actor: Any,
    action: AuditAction,
    *,
    request: HttpRequest | None = None,
    channel: Channel | None = None,
    person_id: int | None = None,
    subject: str = "",
    reason: str = "",
    row_count: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit record; the channel is taken from the request when not given."""
    if channel is None:
        channel = Channel.API if request is not None and request.path.startswith("/api/") else Channel.WEB
        if request is None:
            channel = Channel.COMMAND
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEvent.objects.create(
        actor=actor if is_user else None,
        actor_name=(actor.display_name if is_user else "")[:150],
        action=action,
        channel=channel,
        person_id=person_id,
        subject=subject[:200],
        reason=reason[:500],
        row_count=row_count,
        ip_address=client_ip(request),
        detail=detail or {},
    )


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [before, after]} for the fields an edit changed, for an audit record's detail."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
