"""Finding people: by name, pinyin initials, full ID number or phone, with filters.

Shared by the list page, the API, exports and the benchmark, always on top of
visible_people(user), so search can never widen anyone's scope.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from sanshe.core.crypto import id_blind_index
from sanshe.lib.dates import birth_date_bounds_for_age
from sanshe.lib.idnumber import IdNumberError, parse_id_number
from sanshe.lib.names import is_pinyin_query
from sanshe.lib.phone import PhoneError, normalize_phone
from sanshe.people.models import SPECIAL_GROUP_FIELDS, Person

# Bounded counting: an exact count of a district's million rows costs more than the page.
COUNT_LIMIT = 1_000


@dataclass
class PersonFilter:
    q: str = ""
    region_id: int | None = None
    age_min: int | None = None
    age_max: int | None = None
    status: str = ""
    living_arrangement: str = ""
    economic_status: str = ""
    special_group: str = ""
    sex: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return not any(
            (self.q, self.region_id, self.age_min, self.age_max, self.status, self.living_arrangement,
             self.economic_status, self.special_group, self.sex)
        )


def query_kind(q: str) -> str:
    """What the search box holds: 'id', 'phone', 'initials' or 'name'."""
    text = q.strip()
    if not text:
        return ""
    compact = text.replace(" ", "").upper()
    if len(compact) in (15, 18) and compact[:-1].isdigit():
        return "id"
    if compact.replace("-", "").replace("+", "").isdigit():
        return "phone"
    if is_pinyin_query(compact):
        return "initials"
    return "name"


def search_q(q: str) -> Q:
    """The condition for the search box; an unusable query matches nobody."""
    text = q.strip()
    kind = query_kind(text)
    if kind == "id":
        try:
            number = parse_id_number(text).number
        except IdNumberError:
            return Q(pk__in=[])
        return Q(id_number_index=id_blind_index(number))
    if kind == "phone":
        digits = "".join(ch for ch in text if ch.isdigit())
        try:
            return Q(phone=normalize_phone(text))
        except PhoneError:
            # A partial number (at least 4 digits) matches by prefix.
            return Q(phone__startswith=digits) if len(digits) >= 4 else Q(pk__in=[])
    if kind == "initials":
        return Q(name_initials__startswith=text.replace(" ", "").lower())
    if kind == "name":
        return Q(name__startswith=text)
    return Q()


def filter_people(qs: QuerySet[Person], f: PersonFilter, *, today: dt.date) -> QuerySet[Person]:
    if f.q:
        qs = qs.filter(search_q(f.q))
    if f.region_id:
        from sanshe.accounts.models import Region

        region = Region.objects.filter(pk=f.region_id).first()
        qs = qs.filter(residence_region__code__startswith=region.prefix) if region else qs.none()
    if f.age_min is not None or f.age_max is not None:
        earliest, latest = birth_date_bounds_for_age(f.age_min, f.age_max, today)
        if latest is not None:
            qs = qs.filter(birth_date__lte=latest)
        if earliest is not None:
            qs = qs.filter(birth_date__gte=earliest)
    for name in ("status", "living_arrangement", "economic_status", "sex"):
        value = getattr(f, name)
        if value:
            qs = qs.filter(**{name: value})
    if f.special_group in SPECIAL_GROUP_FIELDS:
        qs = qs.filter(**{f.special_group: True})
    return qs


def bounded_count(qs: QuerySet[Any], limit: int = COUNT_LIMIT) -> tuple[int, bool]:
    """Count up to `limit` rows; returns (count, more) where more means 'at least limit'."""
    n = qs.order_by()[: limit + 1].count()
    return (min(n, limit), n > limit)
