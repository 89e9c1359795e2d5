"""Two months of service history for the demo plans, written in bulk: orders with their events,
service records with positions, times, confirmations and ratings, and the exceptions a real
district sees — a no-show, a cancellation, a check-in far from the home, a visit much too short,
two visits of one caregiver overlapping, a visit recorded after the elder's death — flagged by the
same rules the caregiver's phone applies (orders.flags). Today and tomorrow hold open orders."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from sanshe.accounts.models import User
from sanshe.catalog.models import Caregiver, CaregiverQualification, ServiceSettings
from sanshe.lib.geo import distance_m
from sanshe.orders import flags as flag_rules
from sanshe.orders.models import (
    Alert,
    AlertKind,
    CarePlan,
    CarePlanItem,
    Complaint,
    ComplaintStatus,
    Confirmation,
    Flag,
    OrderEvent,
    OrderSource,
    OrderStatus,
    ReviewStatus,
    ServiceOrder,
    ServiceRecord,
)
from sanshe.people import actions as people_actions
from sanshe.people.codes import PersonStatus
from sanshe.people.models import Contact

S = OrderStatus
NOTES = ("老人精神状态良好", "按清单完成服务", "老人反映近日睡眠一般，已告知家属", "已提醒按时服药",
         "家属在场，交接顺利", "老人食欲较好", "地面较滑，已提醒注意防跌倒")


@dataclass
class Visit:
    item: CarePlanItem
    plan: CarePlan
    caregiver: Caregiver
    window_start: dt.datetime
    window_end: dt.datetime
    status: str
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    offset_m: float = 0.0  # how far from the home the caregiver checked in
    reason: str = ""
    order: ServiceOrder | None = None


def _aware(day: dt.date, at: dt.time) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, at))


def _moved(lat: Decimal, lon: Decimal, metres: float, rng: random.Random) -> tuple[Decimal, Decimal]:
    angle = rng.uniform(0, 2 * math.pi)
    dlat = metres * math.cos(angle) / 111_320
    dlon = metres * math.sin(angle) / (111_320 * math.cos(math.radians(float(lat))))
    return Decimal(f"{float(lat) + dlat:.6f}"), Decimal(f"{float(lon) + dlon:.6f}")


def _fits(caregiver: Caregiver, held: list[CaregiverQualification], item: CarePlanItem, day: dt.date) -> bool:
    needed = item.item.required_qualification
    return day.isoweekday() in caregiver.work_days and (not needed or any(
        q.qualification == needed and q.valid_on(day) for q in held))


def schedule(rng: random.Random, plans: list[CarePlan], caregivers: list[Caregiver], first: dt.date,
             last: dt.date, today: dt.date, now: dt.datetime) -> list[Visit]:
    """Every planned visit from `first` to `last`, with a caregiver free at that time."""
    staff = [c for c in caregivers if c.provider_id == plans[0].provider_id] if plans else []
    held = {c.pk: list(c.qualifications.all()) for c in staff}
    by_pk = {c.pk: c for c in staff}
    busy: dict[tuple[int, dt.date], list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    visits: list[Visit] = []
    day = first
    plan_items = {plan.pk: list(plan.items.select_related("item")) for plan in plans}
    while day <= last:
        slots = [(item, plan) for plan in plans for item in plan_items[plan.pk]
                 if day >= plan.starts_on and day.isoweekday() in item.weekdays]
        slots.sort(key=lambda s: (s[0].window_start, s[1].pk))
        for item, plan in slots:
            window_start, window_end = _aware(day, item.window_start), _aware(day, item.window_end)
            preferred = [by_pk[item.preferred_caregiver_id]] if item.preferred_caregiver_id in by_pk else []
            for caregiver in preferred + [c for c in staff if c not in preferred]:
                if not _fits(caregiver, held[caregiver.pk], item, day):
                    continue
                taken = busy[(caregiver.pk, day)]
                start = max([window_start + dt.timedelta(minutes=rng.randint(0, 15))]
                            + [end + dt.timedelta(minutes=10) for _s, end in taken])
                if start <= window_end:
                    end = start + dt.timedelta(minutes=item.minutes + rng.randint(-3, 8))
                    taken.append((start, end))
                    visits.append(Visit(item, plan, caregiver, window_start, window_end, S.CONFIRMED, start, end,
                                        offset_m=rng.uniform(5, 90)))
                    break
            else:
                continue
            visit = visits[-1]
            if day > today or (day == today and visit.window_start > now):
                visit.status = S.ASSIGNED if day == today or rng.random() < 0.3 else S.REQUESTED
                visit.start = visit.end = None
            elif day == today and visit.end is not None and visit.end > now:
                visit.status = S.ACCEPTED
                visit.start = visit.end = None
        day += dt.timedelta(days=1)
    return visits


def plant_exceptions(rng: random.Random, visits: list[Visit], today: dt.date) -> dict[str, int]:
    """A handful of what goes wrong in a real district, on past visits."""
    past = [v for v in visits if v.status == S.CONFIRMED and v.window_start.date() < today - dt.timedelta(days=2)]
    rng.shuffle(past)
    counts: dict[str, int] = defaultdict(int)
    for visit in past[:6]:
        visit.status, visit.reason = S.NO_SHOW, "护理员临时生病，未能上门，已电话告知老人"
        visit.start = visit.end = None
        counts["no_show"] += 1
    for visit in past[6:10]:
        visit.status, visit.reason = S.CANCELLED, "老人临时外出就医，电话取消"
        visit.start = visit.end = None
        counts["cancelled"] += 1
    for visit in past[10:16]:
        visit.offset_m = rng.uniform(450, 1500)  # checked in from the road, not the home
        counts["outside"] += 1
    for visit in past[16:20]:
        if visit.start is not None:
            visit.end = visit.start + dt.timedelta(minutes=max(5, visit.item.minutes // 4))
        counts["short"] += 1
    return counts


def plant_overlap(visits: list[Visit], today: dt.date) -> None:
    """One caregiver records two visits at once (the second's check-in inside the first)."""
    by_caregiver_day: dict[tuple[int, dt.date], list[Visit]] = defaultdict(list)
    for v in visits:
        if v.status == S.CONFIRMED and v.start is not None and v.window_start.date() < today - dt.timedelta(days=3):
            by_caregiver_day[(v.caregiver.pk, v.window_start.date())].append(v)
    for group in by_caregiver_day.values():
        if len(group) >= 2:
            first, second = sorted(group, key=lambda v: v.start or v.window_start)[:2]
            if first.start is None or second.start is None or second.end is None:
                continue
            length = second.end - second.start
            second.start = first.start + dt.timedelta(minutes=10)
            second.end = second.start + length
            return


def plant_death(visits: list[Visit], today: dt.date) -> dict[int, dt.date]:
    """One planned elder died ten days ago (recorded on the file by the community): one visit was
    still recorded afterwards — the check that matters most — and the rest were cancelled."""
    died_on = today - dt.timedelta(days=10)
    person = next((v.plan.person for v in visits if v.window_start.date() in (died_on, died_on + dt.timedelta(days=1))
                   and v.status == S.CONFIRMED), None)
    if person is None:
        return {}
    worker = User.objects.get(username="demo_community")
    people_actions.change_status(person, to_status=PersonStatus.DECEASED, effective_date=died_on,
                                 reason="家属到社区告知老人已去世", acting_user=worker)
    after = sorted((v for v in visits if v.plan.person.pk == person.pk and v.window_start.date() >= died_on),
                   key=lambda v: v.window_start)
    for n, visit in enumerate(after):
        if n == 0 and visit.status == S.CONFIRMED:
            continue  # recorded after the death: the record is flagged and waits for review
        visit.status, visit.reason = S.CANCELLED, "服务对象已故"
        visit.start = visit.end = None
    return {person.pk: died_on}


def write_history(rng: random.Random, plans: list[CarePlan], caregivers: list[Caregiver],
                  today: dt.date) -> dict[str, Any]:
    """Orders, events and records for the previous month, this month and tomorrow."""
    if not plans:
        return {"orders": 0, "records": 0, "flagged": 0}
    now = timezone.now()
    first = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    visits = schedule(rng, plans, caregivers, first, today + dt.timedelta(days=1), today, now)
    planted = plant_exceptions(rng, visits, today)
    plant_overlap(visits, today)
    deaths = plant_death(visits, today)
    worker_name = "赵丽萍"
    district = plans[0].person.residence_region
    while district.parent is not None:
        district = district.parent
    service_settings = ServiceSettings.for_district(district)

    orders = [
        ServiceOrder(
            person=v.plan.person, item=v.item.item, tier=v.item.tier, community=v.plan.person.residence_region,
            provider=v.plan.provider, caregiver=None if v.status == S.REQUESTED else v.caregiver, plan_item=v.item,
            source=OrderSource.CARE_PLAN, window_start=v.window_start, window_end=v.window_end, minutes=v.item.minutes,
            address=v.plan.person.address, latitude=v.plan.person.latitude, longitude=v.plan.person.longitude,
            status=v.status,
            assignment={} if v.status == S.REQUESTED else {
                "by": "auto", "lines": [f"照护方案指定的固定护理员：{v.caregiver.name}"]},
        )
        for v in visits
    ]
    ServiceOrder.objects.bulk_create(orders, batch_size=2000)
    for v, order in zip(visits, orders, strict=True):
        v.order = order
        order.created_at = v.window_start - dt.timedelta(days=7)
        order.updated_at = v.end or v.window_start
    ServiceOrder.objects.bulk_update(orders, ["created_at", "updated_at"], batch_size=2000)

    events: list[tuple[OrderEvent, dt.datetime]] = []

    def event(order: ServiceOrder, frm: str, to: str, at: dt.datetime, name: str, reason: str = "",
              caregiver: Caregiver | None = None) -> None:
        events.append((OrderEvent(order=order, from_status=frm, to_status=to, actor_name=name, reason=reason,
                                  caregiver=caregiver), at))

    records: list[ServiceRecord] = []
    contacts = {c.person_id: c for c in Contact.objects.filter(
        person__in=[p.person for p in plans], may_confirm_services=True)}
    for v in visits:
        if v.order is None:
            continue
        order = v.order
        created = v.window_start - dt.timedelta(days=7)
        event(order, S.REQUESTED, S.REQUESTED, created, "照护方案", "下单：照护方案")
        if v.status == S.REQUESTED:
            continue
        event(order, S.REQUESTED, S.ASSIGNED, created + dt.timedelta(minutes=1), "系统派单", caregiver=v.caregiver)
        if v.status == S.ASSIGNED:
            continue
        event(order, S.ASSIGNED, S.ACCEPTED, created + dt.timedelta(hours=2), v.caregiver.name, caregiver=v.caregiver)
        if v.status in (S.NO_SHOW, S.CANCELLED):
            event(order, S.ACCEPTED, v.status, min(v.window_end, now),
                  v.caregiver.name if v.status == S.NO_SHOW else worker_name, v.reason)
            continue
        if v.start is None or v.end is None:
            continue
        event(order, S.ACCEPTED, S.IN_SERVICE, v.start, v.caregiver.name, caregiver=v.caregiver)
        event(order, S.IN_SERVICE, S.DONE, v.end, v.caregiver.name, caregiver=v.caregiver)
        person = v.plan.person
        if person.latitude is None or person.longitude is None:
            continue
        lat, lon = _moved(person.latitude, person.longitude, v.offset_m, rng)
        contact = contacts.get(person.pk)
        by_code = contact is not None and rng.random() < 0.25
        roll = rng.random()
        records.append(ServiceRecord(
            order=order, person=person, caregiver=v.caregiver, item=v.item.item, provider=v.plan.provider,
            service_date=v.start.date(), address=person.address, check_in_at=v.start, check_in_latitude=lat,
            check_in_longitude=lon,
            check_in_distance_m=round(distance_m(float(lat), float(lon), float(person.latitude),
                                                 float(person.longitude))),
            check_out_at=v.end, check_out_latitude=lat, check_out_longitude=lon,
            tasks_done=list(v.item.item.tasks), notes=rng.choice(NOTES),
            confirmation=Confirmation.CODE if by_code else Confirmation.SIGNATURE,
            confirmed_at=v.end + dt.timedelta(minutes=1),
            confirmed_by_name=contact.name if by_code and contact else person.name,
            rating=5 if roll < 0.7 else 4 if roll < 0.95 else 3 if roll < 0.99 else 2,
        ))

    flagged = _apply_flags(records, service_settings, deaths)
    for record in records:
        if record.flags:
            # A flagged visit is never confirmed silently: it waits for review, unless reviewed already.
            record.confirmation, record.confirmed_at, record.confirmed_by_name = "", None, ""
            record.review_status = ReviewStatus.PENDING
            record.order.status = S.DONE
    cleared = [r for r in records if r.flags == [Flag.OUTSIDE_GEOFENCE]][:2]
    for record in cleared:
        record.review_status = ReviewStatus.CLEARED
        record.review_note = "电话回访老人确认服务已完成，签到定位偏差"
        record.reviewed_at = record.check_out_at
        record.confirmation = Confirmation.REVIEW
        record.confirmed_at = record.check_out_at
        record.confirmed_by_name = worker_name
        record.order.status = S.CONFIRMED
    for record in records:
        if record.order.status == S.CONFIRMED:
            event(record.order, S.DONE, S.CONFIRMED, record.confirmed_at or record.check_out_at or now,
                  record.confirmed_by_name, "核查通过" if record.confirmation == Confirmation.REVIEW else "")
    ServiceRecord.objects.bulk_create(records, batch_size=2000)
    for record in records:
        record.created_at = record.check_in_at
    ServiceRecord.objects.bulk_update(records, ["created_at"], batch_size=2000)
    ServiceOrder.objects.bulk_update([r.order for r in records], ["status"], batch_size=2000)
    OrderEvent.objects.bulk_create([e for e, _at in events], batch_size=5000)
    for e, at in events:
        e.at = at
    OrderEvent.objects.bulk_update([e for e, _at in events], ["at"], batch_size=5000)

    _alerts_and_complaints(rng, visits, records)
    return {"orders": len(orders), "records": len(records), "flagged": flagged, **planted}


def _apply_flags(records: list[ServiceRecord], settings: ServiceSettings, deaths: dict[int, dt.date]) -> int:
    """Flag every record by the delivery rules, with each caregiver's other visits of the day."""
    by_caregiver: dict[tuple[int, dt.date], list[ServiceRecord]] = defaultdict(list)
    for r in records:
        by_caregiver[(r.caregiver_id, r.service_date)].append(r)
    flagged = 0
    for r in records:
        others = [(o.check_in_at, o.check_out_at) for o in by_caregiver[(r.caregiver_id, r.service_date)] if o is not r]
        r.flags = flag_rules.compute_flags(flag_rules.VisitFacts(
            service_date=r.service_date, check_in_at=r.check_in_at, check_out_at=r.check_out_at,
            distance_m=r.check_in_distance_m, geofence_m=settings.geofence_metres,
            standard_minutes=r.item.standard_minutes, short_visit_percent=settings.short_visit_percent,
            death_date=deaths.get(r.person_id), other_visits=others,
        ))
        flagged += bool(r.flags)
    return flagged


def _alerts_and_complaints(rng: random.Random, visits: list[Visit], records: list[ServiceRecord]) -> None:
    for v in visits:
        if v.status == S.NO_SHOW and v.order is not None:
            Alert.objects.create(
                kind=AlertKind.MISSED, order=v.order, person=v.plan.person, provider=v.plan.provider,
                community=v.plan.person.residence_region,
                message=f"{v.plan.person.name}的“{v.item.item.name}”在服务时段内未签到",
            )
    low = [r for r in records if (r.rating or 5) <= 3][:3]
    for n, record in enumerate(low):
        complaint = Complaint.objects.create(
            order=record.order, lodged_by_name=record.person.name,
            text=("护理员迟到半小时，也没有提前打电话" if n == 0 else "打扫不够仔细，卫生间没有清洁"),
        )
        if n == 0:
            complaint.status = ComplaintStatus.RESOLVED
            complaint.resolution = "已约谈护理员并调整出发时间，老人表示接受"
            complaint.resolved_at = record.check_out_at
            complaint.save()
