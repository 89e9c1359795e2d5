"""Home care beds (家庭养老床位), per seed 001: a bed is opened for a person with a valid capability
assessment (mild or worse), a provider and an active care plan (the service package); the home is
adapted (适老化改造, at most 3,000 yuan) and smart devices installed (at most 2,000 yuan); the bed
goes preparing → active → closed (with a reason). Service minimums: "每天上门服务时间不少于1小时，
每月累计不少于30小时" — delivered minutes are check-in to check-out of the provider's records that
were not rejected in review."""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from sanshe.assessments.models import CapabilityRecord
from sanshe.core.audit import record_event
from sanshe.core.errors import UserError
from sanshe.core.models import AuditAction
from sanshe.orders.models import (
    AdaptationStatus,
    BedAdaptation,
    BedDevice,
    CarePlan,
    CarePlanStatus,
    HomeCareBed,
    HomeCareBedStatus,
    ReviewStatus,
    ServiceRecord,
)

ADAPTATION_CAP = Decimal("3000.00")  # seed 001: 适老化改造补贴不超过3000元
DEVICE_CAP = Decimal("2000.00")  # seed 001: 智能化改造补贴不超过2000元
S = HomeCareBedStatus


def _money(value: Any, label: str, field: str) -> Decimal:
    try:
        amount = Decimal(str(value).strip()).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise UserError(f"{label}应为金额（元）", field=field) from None
    if amount < 0:
        raise UserError(f"{label}不能为负数", field=field)
    return amount


def _audit(bed: HomeCareBed, acting_user: Any, what: str) -> None:
    record_event(acting_user, AuditAction.MANAGE_CARE_PLAN, person_id=bed.person_id,
                 subject=f"家庭养老床位 {bed.pk} {what}")


# --- the bed's life -----------------------------------------------------------------------------


def open_bed(care_plan: CarePlan, *, acting_user: Any, today: dt.date | None = None) -> HomeCareBed:
    """Open (建床) a bed from an active care plan; the person needs a valid assessment at mild
    disability or worse (seed 001: 轻度及以上失能等级老年人)."""
    today = today or timezone.localdate()
    if care_plan.status != CarePlanStatus.ACTIVE:
        raise UserError("只能依据执行中的照护方案建床（方案须三方签署生效）", field="care_plan")
    capability = CapabilityRecord.objects.filter(person_id=care_plan.person_id, valid_until__gte=today).first()
    if capability is None:
        raise UserError(f"{care_plan.person.name}没有有效期内的能力评估，请先评估", field="assessment")
    if capability.level < 1:
        raise UserError("家庭养老床位服务对象应为轻度及以上失能老年人，该老人评估为能力完好", field="assessment")
    try:
        with transaction.atomic():
            bed = HomeCareBed.objects.create(person_id=care_plan.person_id, provider_id=care_plan.provider_id,
                                             assessment_id=capability.assessment_id, care_plan=care_plan,
                                             created_by=acting_user)
            _audit(bed, acting_user, "建床")
    except IntegrityError:
        raise UserError(f"{care_plan.person.name}已有未撤销的家庭养老床位", field="person") from None
    return bed


def add_adaptation(bed: HomeCareBed, *, acting_user: Any, description: str, budget: Any) -> BedAdaptation:
    """Add an adaptation work order; all budgets of the bed together stay within 3,000 yuan."""
    if bed.status == S.CLOSED:
        raise UserError("床位已撤销")
    description = description.strip()
    if not description:
        raise UserError("请填写改造内容", field="description")
    amount = _money(budget, "预算", "budget")
    with transaction.atomic():
        HomeCareBed.objects.select_for_update().filter(pk=bed.pk).first()
        spent = bed.adaptations.aggregate(total=Sum("budget"))["total"] or Decimal("0")
        if spent + amount > ADAPTATION_CAP:
            raise UserError(f"适老化改造预算合计不能超过 {ADAPTATION_CAP} 元（已列 {spent} 元）", field="budget")
        work = BedAdaptation.objects.create(bed=bed, description=description[:300], budget=amount)
        _audit(bed, acting_user, f"适老化改造：{description[:40]}")
    return work


def complete_adaptation(work: BedAdaptation, *, acting_user: Any, cost: Any, completed_on: dt.date) -> BedAdaptation:
    """The work is finished at its actual cost, which may not exceed its budget."""
    if work.status != AdaptationStatus.PLANNED:
        raise UserError("该改造已完工")
    amount = _money(cost, "实际费用", "cost")
    if amount > work.budget:
        raise UserError(f"实际费用不能超过预算 {work.budget} 元", field="cost")
    if completed_on > timezone.localdate():
        raise UserError("完工日期不能晚于今天", field="completed_on")
    work.cost, work.completed_on, work.status = amount, completed_on, AdaptationStatus.DONE
    work.save(update_fields=["cost", "completed_on", "status"])
    _audit(work.bed, acting_user, f"改造完工：{work.description[:40]}")
    return work


def accept_adaptation(work: BedAdaptation, *, acting_user: Any, accepted_by: str) -> BedAdaptation:
    """Acceptance (验收) of finished work, by name."""
    if work.status != AdaptationStatus.DONE:
        raise UserError("改造完工后才能验收")
    if not accepted_by.strip():
        raise UserError("请填写验收人", field="accepted_by")
    work.accepted_by, work.status = accepted_by.strip()[:50], AdaptationStatus.ACCEPTED
    work.save(update_fields=["accepted_by", "status"])
    _audit(work.bed, acting_user, f"改造验收：{work.description[:40]}")
    return work


def add_device(bed: HomeCareBed, *, acting_user: Any, kind: str, serial: str, cost: Any,
               installed_on: dt.date) -> BedDevice:
    """Record an installed device; the devices of a bed together cost at most 2,000 yuan."""
    if bed.status == S.CLOSED:
        raise UserError("床位已撤销")
    kind = kind.strip()
    if not kind:
        raise UserError("请填写设备类型", field="kind")
    amount = _money(cost, "设备费用", "cost")
    if installed_on > timezone.localdate():
        raise UserError("安装日期不能晚于今天", field="installed_on")
    with transaction.atomic():
        HomeCareBed.objects.select_for_update().filter(pk=bed.pk).first()
        spent = bed.devices.aggregate(total=Sum("cost"))["total"] or Decimal("0")
        if spent + amount > DEVICE_CAP:
            raise UserError(f"智能设备费用合计不能超过 {DEVICE_CAP} 元（已有 {spent} 元）", field="cost")
        device = BedDevice.objects.create(bed=bed, kind=kind[:50], serial=serial.strip()[:60], cost=amount,
                                          installed_on=installed_on)
        _audit(bed, acting_user, f"安装设备：{kind[:30]}")
    return device


def activate_bed(bed: HomeCareBed, *, acting_user: Any, opened_on: dt.date | None = None) -> HomeCareBed:
    """The bed starts running (运营) once every adaptation is accepted and a device is installed."""
    opened_on = opened_on or timezone.localdate()
    if bed.status != S.PREPARING:
        raise UserError(f"床位当前为“{S(bed.status).label}”，不能启用")
    if bed.adaptations.exclude(status=AdaptationStatus.ACCEPTED).exists():
        raise UserError("还有未验收的适老化改造，验收后才能启用床位")
    if not bed.devices.exists():
        raise UserError("请先登记安装的智能设备（远程监测须纳入24小时动态管理）")
    if opened_on > timezone.localdate():
        raise UserError("建床日期不能晚于今天", field="opened_on")
    bed.status, bed.opened_on = S.ACTIVE, opened_on
    bed.save(update_fields=["status", "opened_on"])
    _audit(bed, acting_user, "启用")
    return bed


def close_bed(bed: HomeCareBed, *, acting_user: Any, reason: str, closed_on: dt.date | None = None) -> HomeCareBed:
    """Close (撤床) a bed with the reason."""
    closed_on = closed_on or timezone.localdate()
    if bed.status == S.CLOSED:
        raise UserError("床位已撤销")
    if not reason.strip():
        raise UserError("撤床须填写原因", field="reason")
    if bed.opened_on and closed_on < bed.opened_on:
        raise UserError("撤床日期不能早于建床日期", field="closed_on")
    bed.status, bed.closed_on, bed.closed_reason = S.CLOSED, closed_on, reason.strip()[:300]
    bed.save(update_fields=["status", "closed_on", "closed_reason"])
    _audit(bed, acting_user, "撤床")
    return bed


def parse_month(raw: str | None) -> tuple[int, int]:
    """"2026-11" → (2026, 11); the current month when missing or malformed."""
    today = timezone.localdate()
    try:
        year, month = (int(p) for p in (raw or "").split("-", 1))
        dt.date(year, month, 1)
    except ValueError:
        return today.year, today.month
    return year, month


# --- service minimums ---------------------------------------------------------------------------


def _records(beds: Iterable[HomeCareBed], start: dt.date, end: dt.date) -> dict[tuple[int, int], dict[dt.date, int]]:
    """Delivered minutes by (person, provider) and day, from checked-out records not rejected."""
    beds = list(beds)
    found: dict[tuple[int, int], dict[dt.date, int]] = defaultdict(lambda: defaultdict(int))
    if not beds:
        return found
    rows = (ServiceRecord.objects.filter(person_id__in={b.person_id for b in beds},
                                         provider_id__in={b.provider_id for b in beds},
                                         service_date__gte=start, service_date__lte=end, check_out_at__isnull=False)
            .exclude(review_status=ReviewStatus.REJECTED)
            .values_list("person_id", "provider_id", "service_date", "check_in_at", "check_out_at"))
    for person_id, provider_id, day, start_at, end_at in rows:
        if end_at is None:
            continue
        found[(person_id, provider_id)][day] += max(0, int((end_at - start_at).total_seconds() // 60))
    return found


def day_minutes(bed: HomeCareBed, start: dt.date, end: dt.date) -> dict[dt.date, int]:
    return dict(_records([bed], start, end).get((bed.person_id, bed.provider_id), {}))


@dataclass(frozen=True, slots=True)
class BedDay:
    day: dt.date
    minutes: int
    counted: bool  # the bed ran that day and the day is over
    shortfall: int  # minutes missing to the daily minimum (0 when met or not counted)


@dataclass(frozen=True, slots=True)
class BedMonth:
    year: int
    month: int
    days: list[BedDay]
    total: int
    required: int  # the monthly minimum, pro rata when the bed ran part of the month
    finished: bool  # every running day of the month is over

    @property
    def shortfall_days(self) -> list[BedDay]:
        return [d for d in self.days if d.shortfall]

    @property
    def monthly_shortfall(self) -> int:
        return max(0, self.required - self.total) if self.finished else 0

    @property
    def hours(self) -> Decimal:
        return (Decimal(self.total) / 60).quantize(Decimal("0.1"))

    @property
    def weeks(self) -> list[list[BedDay | None]]:
        """The days laid out Monday-first for a calendar."""
        lead = self.days[0].day.weekday()
        cells: list[BedDay | None] = [None] * lead + list(self.days)
        cells += [None] * (-len(cells) % 7)
        return [cells[i:i + 7] for i in range(0, len(cells), 7)]


def summarise_month(bed: HomeCareBed, minutes: dict[dt.date, int], year: int, month: int,
                    today: dt.date) -> BedMonth:
    """Each day's minutes against the daily minimum and the month's total against the monthly one."""
    days_in_month = calendar.monthrange(year, month)[1]
    first, last = dt.date(year, month, 1), dt.date(year, month, days_in_month)
    running_from = bed.opened_on if bed.opened_on and bed.status != S.PREPARING else None
    running_to = min(bed.closed_on or last, last)
    days: list[BedDay] = []
    running_days = 0
    for n in range(days_in_month):
        day = first + dt.timedelta(days=n)
        got = minutes.get(day, 0)
        runs = running_from is not None and running_from <= day <= running_to
        running_days += runs
        counted = runs and day < today
        short = max(0, bed.daily_minimum_minutes - got) if counted else 0
        days.append(BedDay(day, got, counted, short))
    required = math.ceil(bed.monthly_minimum_minutes * running_days / days_in_month) if running_days else 0
    finished = running_days > 0 and running_to < today
    return BedMonth(year, month, days, sum(d.minutes for d in days), required, finished)


def bed_month(bed: HomeCareBed, year: int, month: int, today: dt.date | None = None) -> BedMonth:
    first = dt.date(year, month, 1)
    last = dt.date(year, month, calendar.monthrange(year, month)[1])
    return summarise_month(bed, day_minutes(bed, first, last), year, month, today or timezone.localdate())


def months_of(beds: Iterable[HomeCareBed], year: int, month: int,
              today: dt.date | None = None) -> list[tuple[HomeCareBed, BedMonth]]:
    """Month summaries of many beds with one query for their records."""
    beds = list(beds)
    first = dt.date(year, month, 1)
    last = dt.date(year, month, calendar.monthrange(year, month)[1])
    found = _records(beds, first, last)
    today = today or timezone.localdate()
    return [(b, summarise_month(b, dict(found.get((b.person_id, b.provider_id), {})), year, month, today))
            for b in beds]
