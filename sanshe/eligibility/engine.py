"""The arithmetic both paths share — the monthly batch run (actions.run_month, SQL) and one person
(individual.decide, Python): which versions apply in which part of a month, what a month of a
benefit costs under the proration rule, and which offers a person keeps ("take the highest, never
double" inside an exclusivity group; a policy refused to people who receive one it excludes).

The stated rules (Proration):
- 按整月 (none): the version in force on the first day of the month applies to the whole month; a
  version that starts later in the month applies from the next month. Someone who qualifies from
  a day after the first is paid from the next month; someone whose entitlement ends inside the
  month is paid for that month in full.
- 按天折算 (daily): a version that starts inside the month splits it; each part is paid for its
  days (rate × days ÷ days in the month), as are starts and ends inside the month; the month's sum
  is rounded once, half up, to the fen.
Conditions are evaluated on the first day of the month and on the first day of each part; changes
of a person's file inside the month reach the entitlement through the dynamic re-evaluation, from
their effective date.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sanshe.eligibility.benefits import MONTHLY_MONEY, ONCE_A_YEAR, ONCE_EVER, generosity
from sanshe.eligibility.models import PolicyVersion, Proration

FEN = Decimal("0.01")
DAY = dt.timedelta(days=1)


def first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def last_of_month(month: dt.date) -> dt.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def next_month(month: dt.date) -> dt.date:
    return last_of_month(month) + DAY


def previous_month(month: dt.date) -> dt.date:
    return (month - DAY).replace(day=1)


@dataclass(frozen=True)
class Segment:
    """A part of a month under one version: [start, end], both inclusive."""

    version: PolicyVersion
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def month_segments(versions: list[PolicyVersion], month: dt.date) -> list[Segment]:
    """The parts of the month each version of one policy governs (empty: the policy does not apply)."""
    end = last_of_month(month)
    ordered = sorted((v for v in versions if v.effective_from <= end
                      and (v.effective_to is None or v.effective_to >= month)), key=lambda v: v.effective_from)
    segments: list[Segment] = []
    for v in ordered:
        if v.effective_from <= month:
            segments = [Segment(v, month, end)]
        elif v.proration == Proration.DAILY:
            if segments:
                segments[-1] = Segment(segments[-1].version, segments[-1].start, v.effective_from - DAY)
            segments.append(Segment(v, v.effective_from, end))
    if segments:
        last = segments[-1]
        stop = last.version.effective_to
        if stop is not None and stop < end and last.version.proration == Proration.DAILY:
            segments[-1] = Segment(last.version, last.start, stop)  # the policy ends inside the month
    return segments


def payable(parts: list[tuple[Decimal, dt.date, dt.date]], month: dt.date, proration: str, kind: str, *,
            starts_on: dt.date | None = None, ended_on: dt.date | None = None) -> Decimal:
    """What the month costs: parts are (rate, first day, last day) the person qualified under."""
    if kind in ONCE_A_YEAR or kind in ONCE_EVER:
        return parts[0][0] if parts else Decimal(0)  # the voucher or grant, in the month it is granted
    if kind not in MONTHLY_MONEY:
        return Decimal(0)  # a price right, paid when services are delivered
    starts_on = starts_on or month
    if not parts or (ended_on is not None and ended_on <= starts_on):
        return Decimal(0)
    if proration != Proration.DAILY:
        return parts[0][0] if starts_on <= month and parts[0][1] <= month else Decimal(0)
    last_day = (ended_on - DAY) if ended_on is not None else last_of_month(month)
    days_in_month = Decimal(last_of_month(month).day)
    total = Decimal(0)
    for rate, first, last in parts:
        first, last = max(first, starts_on), min(last, last_day)
        if last >= first:
            total += rate * Decimal((last - first).days + 1) / days_in_month
    return total.quantize(FEN, rounding=ROUND_HALF_UP)


class Terms:
    """What every offer under one version shares, read off the version and its policy once (the
    monthly run makes a million offers; reading them through the ORM each time costs seconds)."""

    __slots__ = ("code", "excludes", "generosity", "group", "kind", "name", "policy_id", "reason_prefix", "version")

    def __init__(self, version: PolicyVersion) -> None:
        policy = version.policy
        self.version = version
        self.policy_id = policy.pk
        self.code = policy.code
        self.name = policy.name
        self.group = policy.exclusivity_group
        self.excludes = frozenset(policy.excludes)
        self.kind = policy.benefit_kind
        self.generosity = generosity(policy.benefit_kind, version.amount, version.parameters)
        self.reason_prefix = (f'{{"version": {version.number}, "version_id": {version.pk}, '
                              f'"effective_from": "{version.effective_from.isoformat()}", "values": ')


class Offer:
    """What one policy offers one person for a month, before exclusivity is applied."""

    __slots__ = ("amount", "parts", "payable", "terms", "values")

    def __init__(self, terms: Terms, amount: Decimal, payable: Decimal, parts: list[tuple[Decimal, dt.date, dt.date]],
                 values: str) -> None:
        self.terms = terms  # of the version of the last part the person qualified under
        self.amount = amount  # that version's rate
        self.payable = payable
        self.parts = parts
        self.values = values  # JSON of the person's values the conditions tested

    @property
    def version(self) -> PolicyVersion:
        return self.terms.version

    def weight(self) -> Decimal:
        return self.payable if self.terms.kind in MONTHLY_MONEY else self.terms.generosity


def choose(offers: list[Offer]) -> tuple[list[Offer], list[tuple[Offer, str]]]:
    """Exclusions first (a policy is refused to people who receive one it excludes), then in each
    exclusivity group only the most generous offer (ties: the older policy). Returns the kept
    offers and the dropped ones with the reason."""
    if len(offers) == 1:
        return offers, []
    codes = {o.terms.code for o in offers}
    kept: list[Offer] = []
    dropped: list[tuple[Offer, str]] = []
    for o in offers:
        clash = o.terms.excludes & codes
        if clash and (clash - {o.terms.code}):
            names = {x.terms.code: x.terms.name for x in offers}
            dropped.append((o, "不与" + "、".join(names[c] for c in sorted(clash - {o.terms.code})) + "同时享受"))
        else:
            kept.append(o)
    best: dict[str, Offer] = {}
    chosen: list[Offer] = []
    for o in kept:
        group = o.terms.group
        if not group:
            chosen.append(o)
            continue
        current = best.get(group)
        if current is None or (o.weight(), -o.terms.policy_id) > (current.weight(), -current.terms.policy_id):
            best[group] = o
    if not best:
        return chosen, dropped
    chosen.extend(best.values())
    for o in kept:
        group = o.terms.group
        if group and best[group] is not o:
            dropped.append((o, f"同组就高：已享受{best[group].terms.name}"))
    return chosen, dropped


_COMPETING: dict[tuple[tuple[int, str], ...], str] = {}


def reason_json(offer: Offer, dropped: list[tuple[Offer, str]]) -> str:
    """The JSON kept with an entitlement: the version, the person's values the conditions tested
    (the explanation is rendered from them, see queries.reason_checks) and what it displaced.
    Assembled as text from cached pieces: the monthly run writes a million of them."""
    terms = offer.terms
    # Only what this offer displaced: the rest of its group, and policies refused because of it.
    dropped = [(o, why) for o, why in dropped
               if (terms.group and o.terms.group == terms.group) or terms.code in o.terms.excludes]
    text = terms.reason_prefix + offer.values
    if len(offer.parts) > 1 or (offer.parts and offer.parts[0][1].day != 1):
        text += ', "parts": ' + json.dumps([[str(rate), a.isoformat(), b.isoformat()] for rate, a, b in offer.parts])
    if dropped:
        key = tuple((o.terms.policy_id, why) for o, why in dropped)
        competing = _COMPETING.get(key)
        if competing is None:
            if len(_COMPETING) > 10000:
                _COMPETING.clear()
            competing = _COMPETING[key] = ', "competing": ' + json.dumps(
                [f"{o.terms.name}（{why}）" for o, why in dropped], ensure_ascii=False)
        text += competing
    return text + "}"


def reason_for(offer: Offer, dropped: list[tuple[Offer, str]]) -> dict[str, Any]:
    return dict(json.loads(reason_json(offer, dropped)))
