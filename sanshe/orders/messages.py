"""The text-message outbox: actions write an OutboundMessage in their own transaction; the
`send_messages` worker claims unsent rows and hands them to the configured transport.

The `SANSHE_SMS_TRANSPORT` setting (from the environment variable of that name) selects the transport: "log" (the
default and the demo's) appends each message to var/sms.log; any other value is the dotted path
of a class with a `send(phone, body)` method (the SMS gateway of a deployment)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from sanshe.lib.masking import mask_phone
from sanshe.orders.models import OutboundMessage

MAX_ATTEMPTS = 5
BATCH = 50


class Transport(Protocol):
    def send(self, phone: str, body: str) -> None: ...


class LogTransport:
    """Writes messages to a file instead of a gateway (demo and development); the phone is masked."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or Path(settings.VAR_DIR) / "sms.log"

    def send(self, phone: str, body: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M:%S")
        with self.path.open("a", encoding="utf-8") as out:
            out.write(f"{stamp}\t{mask_phone(phone)}\t{body}\n")


def get_transport() -> Transport:
    name = settings.SANSHE_SMS_TRANSPORT
    if name == "log":
        return LogTransport()
    transport: Transport = import_string(name)()
    return transport


def queue_message(phone: str, body: str) -> OutboundMessage | None:
    """Queue a text to send; call it inside the transaction of the action that needs it."""
    phone = phone.strip()
    if not phone:
        return None
    return OutboundMessage.objects.create(phone=phone[:20], body=body[:300])


def _claim(limit: int) -> list[OutboundMessage]:
    rows = OutboundMessage.objects.filter(sent_at=None, attempts__lt=MAX_ATTEMPTS).order_by("created_at", "id")
    if connection.features.has_select_for_update_skip_locked:
        # Several workers side by side: each takes rows no other worker holds.
        rows = rows.select_for_update(skip_locked=True)
    return list(rows[:limit])


def send_pending(transport: Transport | None = None, *, limit: int = BATCH) -> tuple[int, int]:
    """Send up to `limit` unsent messages; returns (sent, failed). A failure is retried on a later
    run until MAX_ATTEMPTS."""
    transport = transport or get_transport()
    sent = failed = 0
    with transaction.atomic():
        for message in _claim(limit):
            message.attempts += 1
            try:
                transport.send(message.phone, message.body)
            except Exception as exc:  # the gateway's failure is recorded, the batch goes on
                message.last_error = str(exc)[:300]
                message.save(update_fields=["attempts", "last_error"])
                failed += 1
                continue
            message.sent_at = timezone.now()
            message.save(update_fields=["attempts", "sent_at"])
            sent += 1
    return sent, failed

