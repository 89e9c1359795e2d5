"""What other parts of the platform may want to know about a file, without the file depending on
them: `file_changed` is sent inside the transaction that changed one or more files, with the date
the change takes effect (eligibility re-evaluates entitlements from it)."""

from __future__ import annotations

from django.dispatch import Signal

# kwargs: person_ids (list[int]), effective (datetime.date), reason (str), acting_user (User | None)
file_changed = Signal()
