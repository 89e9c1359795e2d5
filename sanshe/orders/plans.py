"""Care-plan actions (个性化养老方案, 三方协议): draft from the latest valid assessment and the
entitlements in force, edit a draft's items, sign (community, provider, elder or guardian), activate
and supersede, revise into a new version, end; and the plan's month (cost, planned vs delivered)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from sanshe.accounts.models import Organization, Region
from sanshe.assessments.models import CapabilityRecord
from sanshe.catalog.models import Caregiver, ContractStatus, ServiceItem, Tier
from sanshe.catalog.queries import contracts_covering, price_on, unqualified_reason
from sanshe.core.audit import record_event
from sanshe.core.errors import UserError
from sanshe.core.models import AuditAction
from sanshe.eligibility.models import BenefitKind, Entitlement, EntitlementStatus
from sanshe.orders import rules
from sanshe.orders.access import can_manage_plan_as_community, can_manage_plan_as_provider
from sanshe.orders.actions import CLOSED_PERSON_STATUSES, transition_order
from sanshe.orders.models import (
    CarePlan,
    CarePlanItem,
    CarePlanSignature,
    CarePlanStatus,
    OrderStatus,
    ServiceOrder,
    SignerRole,
)
from sanshe.people.models import Person

MAX_SIGNATURE_CHARS = 400_000  # a phone-drawn PNG is a few tens of kB
# Orders not yet under way when a plan is replaced or ended are cancelled with it.
NOT_STARTED = (OrderStatus.REQUESTED, OrderStatus.ASSIGNED, OrderStatus.ACCEPTED)


# --- what the plan rests on ----------------------------------------------------------------------


@dataclass(frozen=True)
class Funding:
    rows: list[dict[str, str]]  # [{"policy", "name", "kind", "amount", "tier"}]
    quota: Decimal | None  # monthly service quota (每月服务额度), None when none is in force
    tier: str  # the service tier the person is entitled to (paid when none)


def funding_of(person: Person, on: dt.date) -> Funding:
    """The person's entitlements in force on the day: approved, of the latest computed month, not ended."""
    month = on.replace(day=1)
    latest = (Entitlement.objects.filter(person=person, month__lte=month, status=EntitlementStatus.ACTIVE)
              .order_by("-month").values_list("month", flat=True).first())
    if latest is None:
        return Funding([], None, Tier.PAID)
    found = (Entitlement.objects.filter(person=person, month=latest, status=EntitlementStatus.ACTIVE)
             .filter(Q(ended_on__isnull=True) | Q(ended_on__gt=on)).select_related("policy", "version")
             .order_by("policy__code"))
    rows: list[dict[str, str]] = []
    quota: Decimal | None = None
    tier = Tier.PAID.value
    for e in found:
        kind = e.policy.benefit_kind
        row = {"policy": e.policy.code, "name": e.policy.name, "kind": kind, "amount": f"{e.amount:.2f}", "tier": ""}
        if kind == BenefitKind.MONTHLY_QUOTA:
            quota = (quota or Decimal("0.00")) + e.amount
        if kind == BenefitKind.CO_PAYMENT_TIER:
            row["tier"] = str(e.version.parameters.get("tier", ""))
            if row["tier"] in Tier.values and _tier_rank(row["tier"]) < _tier_rank(tier):
                tier = row["tier"]
        rows.append(row)
    return Funding(rows, quota, tier)


def _tier_rank(tier: str) -> int:
    return {Tier.FREE: 0, Tier.LOW_COST: 1, Tier.PAID: 2}[Tier(tier)]


def valid_level(person: Person, on: dt.date) -> CapabilityRecord | None:
    """The person's capability record when it is still valid on the day."""
    return CapabilityRecord.objects.filter(person=person, valid_until__gte=on).select_related("assessment").first()


def providers_for(community: Region, on: dt.date) -> QuerySet[Organization]:
    """Providers with a purchase contract in force covering the community."""
    area = [community.pk]
    node = community.parent
    while node is not None:
        area.append(node.pk)
        node = node.parent
    return Organization.objects.filter(
        is_active=True, contracts__status=ContractStatus.ACTIVE, contracts__starts_on__lte=on,
        contracts__ends_on__gte=on, contracts__service_area__in=area).distinct().order_by("name")


def contracted_items(plan: CarePlan, on: dt.date) -> list[ServiceItem]:
    """Active items the plan's provider is contracted to deliver in the person's community."""
    community = plan.person.residence_region
    items = ServiceItem.objects.filter(is_active=True).order_by("category", "code")
    return [i for i in items if contracts_covering(community, i, on).filter(provider=plan.provider).exists()]


# --- drafting and editing ------------------------------------------------------------------------


def _audit(plan: CarePlan, acting_user: Any, what: str, request: Any = None) -> None:
    record_event(acting_user, AuditAction.MANAGE_CARE_PLAN, request=request, person_id=plan.person_id,
                 subject=f"照护方案 {plan.pk} 第{plan.version}版", reason=what)


def draft_care_plan(person: Person, provider: Organization, *, acting_user: Any, starts_on: dt.date | None = None,
                    request: Any = None) -> CarePlan:
    """Start a plan for the person with the provider, its items suggested by the capability level."""
    today = timezone.localdate()
    starts_on = starts_on or today
    if person.status in CLOSED_PERSON_STATUSES:
        raise UserError(f"{person.name}{CLOSED_PERSON_STATUSES[person.status]}，不能制定照护方案", field="person")
    if provider not in providers_for(person.residence_region, starts_on):
        raise UserError(f"{provider.name}没有覆盖{person.residence_region.name}的有效购买服务合同", field="provider")
    mine = CarePlan.objects.filter(person=person, provider=provider)
    if mine.filter(status=CarePlanStatus.DRAFT).exists():
        raise UserError("该老人与该机构已有待签署的方案草稿，请在草稿上修改", field="provider")
    if mine.filter(status=CarePlanStatus.ACTIVE).exists():
        raise UserError("该老人与该机构已有执行中的方案，请使用“修改方案”生成新版本", field="provider")
    record = valid_level(person, today)
    funding = funding_of(person, today)
    with transaction.atomic():
        version = (mine.aggregate(m=Max("version"))["m"] or 0) + 1
        plan = CarePlan.objects.create(
            person=person, provider=provider, version=version, assessment=record.assessment if record else None,
            entitlements=funding.rows, starts_on=starts_on, created_by=acting_user,
            needs=_needs_text(person, record),
        )
        offered = {i.category: i for i in reversed(contracted_items(plan, starts_on))}
        for s in rules.suggest_services(record.level if record else None):
            item = offered.get(s.category)
            if item is None:
                continue
            CarePlanItem.objects.create(plan=plan, item=item, tier=funding.tier, weekdays=list(s.weekdays),
                                        window_start=s.window_start, window_end=s.window_end,
                                        minutes=item.standard_minutes, notes=s.why)
        _audit(plan, acting_user, "起草照护方案", request)
    return plan


def _needs_text(person: Person, record: CapabilityRecord | None) -> str:
    """What the file says the person needs: the assessed level, living situation and health."""
    lines = []
    if record is None:
        lines.append("尚无有效的能力评估，请先申请评估；以下服务按一般需求起草。")
    else:
        lines.append(f"能力评估 {record.assessment.number}：{record.level}级（评估日期 {record.assessed_on:%Y-%m-%d}）。")
    if person.living_arrangement:
        lines.append(f"居住情况：{person.get_living_arrangement_display()}。")
    if person.chronic_conditions:
        lines.append(f"慢性病：{'、'.join(str(c) for c in person.chronic_conditions)}。")
    if person.medications:
        lines.append(f"长期用药：{person.medications}。")
    return "\n".join(lines)


def _editable(plan: CarePlan, acting_user: Any) -> CarePlan:
    locked = CarePlan.objects.select_for_update(of=("self",)).select_related("person__residence_region", "provider").get(pk=plan.pk)
    if locked.status != CarePlanStatus.DRAFT:
        raise UserError("已签署生效的方案不能修改，请使用“修改方案”生成新版本", field="status")
    if not (can_manage_plan_as_community(acting_user, locked) or can_manage_plan_as_provider(acting_user, locked)):
        raise PermissionDenied("您没有修改该照护方案的权限")
    return locked


def _content_changed(plan: CarePlan) -> None:
    # Signatures attest the plan as it was: a changed draft is signed again by everyone.
    plan.signatures.all().delete()


def update_plan_details(plan: CarePlan, *, needs: str, goals: str, starts_on: dt.date, ends_on: dt.date | None,
                        acting_user: Any) -> CarePlan:
    """Change a draft's needs, goals and period."""
    if ends_on is not None and ends_on < starts_on:
        raise UserError("结束日期不能早于开始日期", field="ends_on")
    with transaction.atomic():
        locked = _editable(plan, acting_user)
        locked.needs, locked.goals, locked.starts_on, locked.ends_on = needs.strip(), goals.strip(), starts_on, ends_on
        locked.save(update_fields=["needs", "goals", "starts_on", "ends_on"])
        _content_changed(locked)
        _audit(locked, acting_user, "修改方案草稿")
    return locked


def add_plan_item(plan: CarePlan, *, item: ServiceItem, tier: str, weekdays: list[Any], window_start: dt.time,
                  window_end: dt.time, minutes: int, preferred_caregiver: Caregiver | None = None, notes: str = "",
                  acting_user: Any) -> CarePlanItem:
    """Add a service to a draft; the preferred caregiver must be the provider's and qualified."""
    if tier not in Tier.values:
        raise UserError("收费档次不正确", field="tier")
    try:
        days = rules.clean_weekdays(weekdays)
    except ValueError:
        raise UserError("请至少选择一个服务日（周一至周日）", field="weekdays") from None
    if window_end < window_start:
        raise UserError("期望最晚开始时间不能早于期望开始时间", field="window_end")
    if not 5 <= minutes <= 480:
        raise UserError("每次时长应在 5 到 480 分钟之间", field="minutes")
    with transaction.atomic():
        locked = _editable(plan, acting_user)
        if item not in contracted_items(locked, locked.starts_on):
            raise UserError(f"{locked.provider.name}没有承接该社区“{item.name}”的有效合同", field="item")
        if preferred_caregiver is not None:
            if preferred_caregiver.provider_id != locked.provider_id:
                raise UserError(f"{preferred_caregiver.name}不属于{locked.provider.name}", field="preferred_caregiver")
            refusal = unqualified_reason(preferred_caregiver, item, locked.starts_on)
            if refusal:
                raise UserError(refusal, field="preferred_caregiver")
        row = CarePlanItem.objects.create(plan=locked, item=item, tier=tier, weekdays=days, window_start=window_start,
                                          window_end=window_end, minutes=minutes, notes=notes.strip()[:200],
                                          preferred_caregiver=preferred_caregiver)
        _content_changed(locked)
        _audit(locked, acting_user, f"添加服务项目：{item.name}")
    return row


def remove_plan_item(plan: CarePlan, item_id: int, *, acting_user: Any) -> None:
    """Take a service off a draft."""
    with transaction.atomic():
        locked = _editable(plan, acting_user)
        row = locked.items.filter(pk=item_id).select_related("item").first()
        if row is None:
            raise UserError("该服务项目不在本方案中", field="item")
        name = row.item.name
        row.delete()
        _content_changed(locked)
        _audit(locked, acting_user, f"删除服务项目：{name}")


def discard_draft(plan: CarePlan, *, acting_user: Any) -> None:
    """Delete an unsigned draft (it was never an agreement)."""
    with transaction.atomic():
        locked = _editable(plan, acting_user)
        _audit(locked, acting_user, "放弃方案草稿")
        locked.delete()


# --- signing, versions, ending -------------------------------------------------------------------


def may_sign(user: Any, plan: CarePlan, role: str) -> bool:
    """Community signs by MANAGE_CARE_PLANS, the provider by RUN_PROVIDER; either records the elder's."""
    if role == SignerRole.COMMUNITY:
        return can_manage_plan_as_community(user, plan)
    if role == SignerRole.PROVIDER:
        return can_manage_plan_as_provider(user, plan)
    return can_manage_plan_as_community(user, plan) or can_manage_plan_as_provider(user, plan)


def is_fully_signed(roles: set[str]) -> bool:
    return {SignerRole.COMMUNITY, SignerRole.PROVIDER} <= roles and bool(roles & {SignerRole.ELDER, SignerRole.GUARDIAN})


def sign_care_plan(plan: CarePlan, *, role: str, signer_name: str, image: str, acting_user: Any,
                   request: Any = None) -> CarePlan:
    """Record one party's signature; with all three parties the plan takes effect and replaces the
    previous active version of the same person and provider."""
    if role not in SignerRole.values:
        raise UserError("签署方不正确", field="role")
    signer_name = signer_name.strip()
    if not signer_name:
        raise UserError("请填写签署人姓名", field="signer_name")
    if not image.startswith("data:image/png;base64,") or not 200 <= len(image) <= MAX_SIGNATURE_CHARS:
        raise UserError("签名图像无效，请在签名框内重新签名", field="image")
    with transaction.atomic():
        locked = CarePlan.objects.select_for_update(of=("self",)).select_related("person__residence_region", "provider").get(
            pk=plan.pk)
        if locked.status != CarePlanStatus.DRAFT:
            raise UserError("该方案已签署生效或已终止，不能再签名", field="status")
        if not may_sign(acting_user, locked, role):
            raise PermissionDenied(f"您不能代表“{SignerRole(role).label}”签署该方案")
        if not locked.items.exists():
            raise UserError("方案还没有服务项目，不能签署", field="items")
        CarePlanSignature.objects.update_or_create(
            plan=locked, role=role, defaults={"signer_name": signer_name[:50], "image": image,
                                              "recorded_by": acting_user})
        _audit(locked, acting_user, f"{SignerRole(role).label}签名：{signer_name}", request)
        if is_fully_signed(set(locked.signatures.values_list("role", flat=True))):
            _activate(locked, acting_user)
    plan.refresh_from_db()
    return plan


def _activate(plan: CarePlan, acting_user: Any) -> None:
    now = timezone.now()
    for old in CarePlan.objects.select_for_update().filter(person=plan.person, provider=plan.provider,
                                                           status=CarePlanStatus.ACTIVE).exclude(pk=plan.pk):
        old.status = CarePlanStatus.SUPERSEDED
        old.ends_on = max(old.starts_on, plan.starts_on - dt.timedelta(days=1))
        old.save(update_fields=["status", "ends_on"])
        cancel_plan_orders(old, after=_start_of(plan.starts_on), reason=f"方案已更新为第{plan.version}版",
                           acting_user=acting_user)
    plan.status = CarePlanStatus.ACTIVE
    plan.activated_at = now
    plan.save(update_fields=["status", "activated_at"])
    _audit(plan, acting_user, "三方签署完成，方案生效")


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def cancel_plan_orders(plan: CarePlan, *, after: dt.datetime, reason: str, acting_user: Any) -> int:
    """Cancel the plan's orders from `after` on that are not yet under way."""
    orders = ServiceOrder.objects.filter(plan_item__plan=plan, window_start__gte=after, status__in=NOT_STARTED)
    count = 0
    for order in orders:
        transition_order(order, OrderStatus.CANCELLED, acting_user=acting_user, reason=reason)
        count += 1
    return count


def revise_care_plan(plan: CarePlan, *, acting_user: Any, request: Any = None) -> CarePlan:
    """"修改方案": a new draft version copying the signed plan's items; the signed one stays as it is."""
    with transaction.atomic():
        locked = CarePlan.objects.select_for_update(of=("self",)).select_related("person__residence_region", "provider").get(
            pk=plan.pk)
        if not (can_manage_plan_as_community(acting_user, locked) or can_manage_plan_as_provider(acting_user, locked)):
            raise PermissionDenied("您没有修改该照护方案的权限")
        if locked.status != CarePlanStatus.ACTIVE:
            raise UserError("只有执行中的方案可以修改", field="status")
        if CarePlan.objects.filter(person=locked.person, provider=locked.provider,
                                   status=CarePlanStatus.DRAFT).exists():
            raise UserError("已有待签署的修改草稿，请在草稿上继续", field="status")
        today = timezone.localdate()
        record = valid_level(locked.person, today)
        version = (CarePlan.objects.filter(person=locked.person, provider=locked.provider)
                   .aggregate(m=Max("version"))["m"] or 0) + 1
        new = CarePlan.objects.create(
            person=locked.person, provider=locked.provider, version=version, previous=locked,
            assessment=record.assessment if record else locked.assessment, needs=locked.needs, goals=locked.goals,
            entitlements=funding_of(locked.person, today).rows, starts_on=max(today, locked.starts_on),
            ends_on=locked.ends_on, created_by=acting_user,
        )
        for row in locked.items.all():
            CarePlanItem.objects.create(plan=new, item=row.item, tier=row.tier, weekdays=list(row.weekdays),
                                        window_start=row.window_start, window_end=row.window_end,
                                        minutes=row.minutes, preferred_caregiver=row.preferred_caregiver,
                                        notes=row.notes)
        _audit(new, acting_user, f"由第{locked.version}版修改，生成新草稿", request)
    return new


def end_care_plan(plan: CarePlan, *, reason: str, acting_user: Any, ends_on: dt.date | None = None,
                  request: Any = None) -> CarePlan:
    """End an active plan with a reason; its orders after the end date not yet under way are cancelled."""
    reason = reason.strip()
    if not reason:
        raise UserError("请填写终止原因", field="reason")
    ends_on = ends_on or timezone.localdate()
    with transaction.atomic():
        locked = CarePlan.objects.select_for_update(of=("self",)).select_related("person__residence_region", "provider").get(
            pk=plan.pk)
        if not (can_manage_plan_as_community(acting_user, locked) or can_manage_plan_as_provider(acting_user, locked)):
            raise PermissionDenied("您没有终止该照护方案的权限")
        if locked.status != CarePlanStatus.ACTIVE:
            raise UserError("只有执行中的方案可以终止（草稿可直接放弃）", field="status")
        if ends_on < locked.starts_on:
            raise UserError("终止日期不能早于方案开始日期", field="ends_on")
        locked.status = CarePlanStatus.ENDED
        locked.ends_on = ends_on
        locked.ended_reason = reason[:300]
        locked.save(update_fields=["status", "ends_on", "ended_reason"])
        cancel_plan_orders(locked, after=_start_of(ends_on + dt.timedelta(days=1)), reason=f"方案终止：{reason}",
                           acting_user=acting_user)
        _audit(locked, acting_user, f"终止方案：{reason}", request)
    return locked


# --- the plan's month ----------------------------------------------------------------------------


@dataclass
class ItemMonth:
    row: CarePlanItem
    visits: int
    line: rules.CostLine | None  # None: no price in force
    tally: rules.Tally
    days_label: str


def plan_month(plan: CarePlan, year: int, month: int) -> tuple[list[ItemMonth], rules.MonthCost]:
    """Each item's visits in the plan period, a whole month's cost at the prices in force, and what happened."""
    first = dt.date(year, month, 1)
    rows = list(plan.items.select_related("item", "preferred_caregiver").order_by("item__category", "pk"))
    planned: dict[int, tuple[int, int]] = {}
    lines: dict[int, rules.CostLine | None] = {}
    for row in rows:
        visits = rules.visits_in_month(row.weekdays, year, month, starts_on=plan.starts_on, ends_on=plan.ends_on)
        planned[row.pk] = (visits, row.minutes)
        price = price_on(row.item, max(first, plan.starts_on))
        # The cost is a whole month's, so a plan starting late in a month is still checked against the quota.
        lines[row.pk] = None if price is None else rules.CostLine(
            visits=rules.visits_in_month(row.weekdays, year, month), units=rules.units_per_visit(row.item.unit, row.minutes),
            elder_price=price.elder_pays(row.tier), fund_price=price.fund_pays(row.tier))
    last = rules.month_days(year, month)[-1]
    orders = (ServiceOrder.objects.filter(plan_item__in=rows, window_start__gte=_start_of(first),
                                          window_start__lt=_start_of(last + dt.timedelta(days=1)))
              .select_related("record"))
    facts = []
    for o in orders:
        record = getattr(o, "record", None)
        facts.append(rules.OrderFact(plan_item_id=o.plan_item_id or 0, status=o.status, minutes=o.minutes,
                                     delivered_minutes=record.minutes if record is not None else None))
    tallies = rules.tally_month(planned, facts)
    quota = Decimal(0)
    has_quota = False
    for e in plan.entitlements:
        if e.get("kind") == BenefitKind.MONTHLY_QUOTA:
            quota += Decimal(str(e.get("amount", "0")))
            has_quota = True
    cost = rules.month_cost([x for x in lines.values() if x is not None], quota if has_quota else None)
    return [ItemMonth(row, planned[row.pk][0], lines[row.pk], tallies[row.pk], rules.weekdays_label(row.weekdays))
            for row in rows], cost
