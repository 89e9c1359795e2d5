"""Dynamic management: when a file changes (death, moving away, a new assessment, a new economic
status…), the person is re-evaluated at once, inside the transaction that changed the file, from
the date the change takes effect."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sanshe.eligibility.engine import first_of_month
from sanshe.eligibility.models import EntitlementRun, RunStatus
from sanshe.people.models import Person


def on_file_changed(sender: Any, *, person_ids: list[int], effective: dt.date, reason: str,
                    acting_user: Any = None, **kwargs: Any) -> None:
    # Only computed months that the date reaches can change; most edits find none and cost one query.
    if not person_ids or not EntitlementRun.objects.filter(status=RunStatus.DONE,
                                                           month__gte=first_of_month(effective)).exists():
        return
    from sanshe.eligibility.individual import reevaluate

    for person in Person.objects.filter(pk__in=person_ids).select_related("residence_region"):
        reevaluate(person, effective, reason=reason, acting_user=acting_user)
