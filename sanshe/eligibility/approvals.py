"""Approval and public notice of new and changed entitlements: one batch per community goes
community → street → district, each step by a different person than the maker and than the
approvers of the earlier steps of the same round; a rejection returns the batch to the maker with
a reason (rows may be withdrawn, then the batch is resubmitted and a new round starts). After the
district step the batch is on public notice (公示) for the district's number of days, with names
and ID numbers masked; objections are recorded and resolved, and only then do the rows take
effect (a daily worker activates what is due)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, DecimalField, Exists, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side

from sanshe.accounts.access import capability_scope
from sanshe.accounts.models import (
    ROLE_CAPABILITIES,
    Capability,
    Membership,
    Organization,
    OrganizationKind,
    Region,
    RegionLevel,
)
from sanshe.core.audit import record_event
from sanshe.core.errors import UserError
from sanshe.core.models import AuditAction
from sanshe.eligibility.access import can_manage, visible_batches
from sanshe.eligibility.models import (
    ApprovalBatch,
    ApprovalStep,
    BatchKind,
    BatchStatus,
    EligibilitySettings,
    Entitlement,
    EntitlementStatus,
    NoticeObjection,
    ObjectionResolution,
    StepDecision,
    StepLevel,
)

B = BatchStatus
MIN_NOTICE_DAYS, MAX_NOTICE_DAYS = 1, 30
# The step a batch waits at, and the one after it once approved.
STEP_OF = {B.COMMUNITY: StepLevel.COMMUNITY, B.STREET: StepLevel.STREET, B.DISTRICT: StepLevel.DISTRICT}
NEXT = {B.COMMUNITY: B.STREET, B.STREET: B.DISTRICT, B.DISTRICT: B.NOTICE}
LEVEL_OF_STEP = {StepLevel.COMMUNITY: RegionLevel.COMMUNITY, StepLevel.STREET: RegionLevel.STREET,
                 StepLevel.DISTRICT: RegionLevel.DISTRICT}
# Rows that are still part of a batch's decision (withdrawn or objected rows are REJECTED).
LIVE = (EntitlementStatus.PENDING, EntitlementStatus.NOTICE, EntitlementStatus.ACTIVE)


@dataclass(frozen=True)
class Verdict:
    """Whether a user may take a step now, and if not, why (shown as it is)."""

    allowed: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


ALLOWED = Verdict(True)


def cn_date(day: dt.date | None) -> str:
    """2026年12月3日, as notices write dates."""
    return f"{day.year}年{day.month}月{day.day}日" if day is not None else ""


# --- who holds approval where -------------------------------------------------------------------


def approval_regions(user: Any) -> dict[int, str]:
    """Region id → level of every organisation through which the user holds APPROVE_ENTITLEMENTS
    (the level of the step follows the membership's region; cached on the user object)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return {}
    cached: dict[int, str] | None = user.__dict__.get("_sanshe_approval_regions")
    if cached is None:
        rows = Membership.objects.filter(user=user, is_active=True, organization__is_active=True).values_list(
            "role", "organization__region_id", "organization__region__level")
        cached = {region_id: level for role, region_id, level in rows
                  if Capability.APPROVE_ENTITLEMENTS in ROLE_CAPABILITIES.get(role, frozenset())}
        user.__dict__["_sanshe_approval_regions"] = cached
    return cached


def step_region_id(batch: ApprovalBatch, level: str) -> int | None:
    """The region whose staff decide the step: the community, the street containing it, the district."""
    if level == StepLevel.COMMUNITY:
        return batch.community_id
    if level == StepLevel.STREET:
        return batch.community.parent_id
    return batch.district_id


def holds_step(user: Any, batch: ApprovalBatch, level: str) -> bool:
    return approval_regions(user).get(step_region_id(batch, level) or 0) == LEVEL_OF_STEP[StepLevel(level)]


def _round(batch: ApprovalBatch) -> tuple[int | None, list[ApprovalStep]]:
    """Who opened the current round (the maker, or whoever last resubmitted) and its steps so far."""
    steps = list(batch.steps.all())
    last = max((i for i, s in enumerate(steps) if s.decision == StepDecision.RESUBMITTED), default=-1)
    opener = steps[last].decided_by_id if last >= 0 else batch.maker_id
    return opener, steps[last + 1:]


def can_decide(user: Any, batch: ApprovalBatch) -> Verdict:
    """Whether the user may approve or reject the batch at its current step, with the reason if not."""
    level = STEP_OF.get(B(batch.status))
    if level is None:
        return Verdict(False, f"该批次{batch.get_status_display()}，不在审核环节")
    # Whoever prepared the batch or this round of it (by resubmitting) never reviews it.
    opener, steps = _round(batch)
    if user.pk is not None and user.pk in (batch.maker_id, opener):
        return Verdict(False, "经办人不能审核自己经办的待遇")
    if not holds_step(user, batch, level):
        if capability_scope(user, Capability.APPROVE_ENTITLEMENTS).covers(batch.community.code):
            where = {StepLevel.COMMUNITY: batch.community.name, StepLevel.STREET: _street_name(batch),
                     StepLevel.DISTRICT: "区民政局"}[level]
            return Verdict(False, f"该批次当前在{_step_name(level)}环节，须由{where}审核")
        return Verdict(False, "您没有审核该批次的权限")
    if any(s.decision == StepDecision.APPROVED and s.decided_by_id == user.pk for s in steps):
        return Verdict(False, "同一人不能审核两个环节")
    return ALLOWED


def _step_name(level: str) -> str:
    return {StepLevel.COMMUNITY: "社区审核", StepLevel.STREET: "街道审核", StepLevel.DISTRICT: "区民政审批"}[
        StepLevel(level)]


def _street_name(batch: ApprovalBatch) -> str:
    street = batch.community.parent
    return street.name if street is not None else "街道"


def can_fix(user: Any, batch: ApprovalBatch) -> bool:
    """The maker, or whoever accepts applications or writes policies for the community, may withdraw
    rows from a returned batch and resubmit it."""
    if batch.maker_id is not None and batch.maker_id == user.pk:
        return True
    code = batch.community.code
    return (capability_scope(user, Capability.APPLY_ENTITLEMENT).covers(code)
            or capability_scope(user, Capability.MANAGE_POLICIES).covers(code))


def can_record_objection(user: Any, batch: ApprovalBatch) -> bool:
    code = batch.community.code
    return (capability_scope(user, Capability.APPROVE_ENTITLEMENTS).covers(code)
            or capability_scope(user, Capability.APPLY_ENTITLEMENT).covers(code))


def can_resolve_objection(user: Any, batch: ApprovalBatch) -> bool:
    """The street (which investigates, seed 004) or the district (which approves) resolves."""
    return holds_step(user, batch, StepLevel.STREET) or holds_step(user, batch, StepLevel.DISTRICT)


def can_activate(user: Any, batch: ApprovalBatch) -> bool:
    return holds_step(user, batch, StepLevel.DISTRICT)


# --- batch lists (who sees which batch: eligibility.access) ----------------------------------


def with_totals(qs: QuerySet[ApprovalBatch]) -> QuerySet[ApprovalBatch]:
    """Each batch with its live rows counted and summed (rows withdrawn or objected drop out) and
    its open objections counted; subqueries, so neither join multiplies the other."""
    rows = Entitlement.objects.filter(batch=OuterRef("pk"), status__in=LIVE).order_by().values("batch")
    objections = (NoticeObjection.objects.filter(batch=OuterRef("pk"), resolution=ObjectionResolution.OPEN)
                  .order_by().values("batch"))
    money = DecimalField(max_digits=14, decimal_places=2)
    return qs.annotate(
        row_count=Coalesce(Subquery(rows.annotate(n=Count("id")).values("n")), 0),
        amount_total=Coalesce(Subquery(rows.annotate(v=Sum("amount")).values("v"), output_field=money),
                              Value(Decimal(0)), output_field=money),
        payable_total=Coalesce(Subquery(rows.annotate(v=Sum("payable")).values("v"), output_field=money),
                               Value(Decimal(0)), output_field=money),
        open_objections=Coalesce(Subquery(objections.annotate(n=Count("id")).values("n")), 0),
    )


def batches_to_decide(user: Any) -> list[ApprovalBatch]:
    """Batches waiting at a step the user may decide now."""
    regions = approval_regions(user)
    by_level: dict[str, list[int]] = {}
    for region_id, level in regions.items():
        by_level.setdefault(level, []).append(region_id)
    q = Q(pk__in=[])
    if by_level.get(RegionLevel.COMMUNITY):
        q |= Q(status=B.COMMUNITY, community_id__in=by_level[RegionLevel.COMMUNITY])
    if by_level.get(RegionLevel.STREET):
        q |= Q(status=B.STREET, community__parent_id__in=by_level[RegionLevel.STREET])
    if by_level.get(RegionLevel.DISTRICT):
        q |= Q(status=B.DISTRICT, district_id__in=by_level[RegionLevel.DISTRICT])
    candidates = (with_totals(ApprovalBatch.objects.filter(q)).exclude(maker_id=user.pk)
                  .select_related("community__parent", "district", "maker").prefetch_related("steps")
                  .order_by("month", "community__code", "id"))
    return [b for b in candidates if can_decide(user, b)]


def batches_to_fix(user: Any) -> list[ApprovalBatch]:
    """Returned batches the user may correct and resubmit."""
    q = Q(maker_id=user.pk)
    q |= capability_scope(user, Capability.APPLY_ENTITLEMENT).region_q("community__code")
    q |= capability_scope(user, Capability.MANAGE_POLICIES).region_q("community__code")
    qs = with_totals(visible_batches(user).filter(q, status=B.RETURNED)).select_related(
        "community__parent", "district", "maker")
    return list(qs.order_by("month", "community__code", "id"))


# --- opening batches ---------------------------------------------------------------------------


def _is_user(user: Any) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


@transaction.atomic
def open_batch(entitlements: Iterable[Entitlement], *, kind: str, maker: Any) -> ApprovalBatch:
    """One batch for a few pending rows of one community (an application, a re-evaluation)."""
    if kind not in BatchKind.values:
        raise UserError(f"没有“{kind}”这一批次类型", field="kind")
    ids = sorted({e.pk for e in entitlements})
    rows = list(Entitlement.objects.select_for_update(of=("self",)).filter(pk__in=ids)
                .select_related("run", "person"))
    if not rows:
        raise UserError("没有需要审批的待遇")
    if any(r.status != EntitlementStatus.PENDING or r.batch_id is not None for r in rows):
        raise UserError("只有尚未进入审批的待审批待遇可以提交审批")
    communities = {r.person.residence_region_id for r in rows}
    if len(communities) != 1:
        raise UserError("一个审批批次只能包含同一社区的待遇")
    runs = {r.run_id for r in rows}
    first = rows[0]
    batch = ApprovalBatch.objects.create(
        district_id=first.run.district_id, community_id=communities.pop(), month=min(r.month for r in rows),
        run=first.run if kind == BatchKind.RUN and len(runs) == 1 else None, kind=kind,
        maker=maker if _is_user(maker) else None)
    Entitlement.objects.filter(pk__in=ids).update(batch=batch)
    return batch


# --- decisions ---------------------------------------------------------------------------------


def _locked(batch: ApprovalBatch) -> ApprovalBatch:
    return (ApprovalBatch.objects.select_for_update(of=("self",))
            .select_related("community__parent", "district").get(pk=batch.pk))


def _audit(user: Any, batch: ApprovalBatch, decision: str, *, request: HttpRequest | None, reason: str = "",
           person_id: int | None = None, **detail: Any) -> None:
    record_event(user, AuditAction.APPROVE_ENTITLEMENTS, request=request, person_id=person_id,
                 subject=f"待遇审批批次 {batch.pk}（{batch.community.name}，{batch.month:%Y年%m月}）",
                 reason=reason, detail={"batch": batch.pk, "decision": decision, **detail})


def _require_decider(user: Any, batch: ApprovalBatch) -> str:
    level = STEP_OF.get(B(batch.status))
    if level is None:
        raise UserError(f"该批次{batch.get_status_display()}，不在审核环节")
    verdict = can_decide(user, batch)
    if not verdict:
        raise PermissionDenied(verdict.reason)
    return level


@transaction.atomic
def approve(batch: ApprovalBatch, *, acting_user: Any, comment: str = "",
            request: HttpRequest | None = None) -> ApprovalBatch:
    """Pass the batch to the next step; after the district step it goes on public notice."""
    locked = _locked(batch)
    level = _require_decider(acting_user, locked)
    if not locked.entitlements.filter(status=EntitlementStatus.PENDING).exists():
        raise UserError("批次中没有待审批的待遇")
    ApprovalStep.objects.create(batch=locked, level=level, decision=StepDecision.APPROVED, decided_by=acting_user,
                                comment=comment.strip()[:300])
    locked.status = NEXT[B(locked.status)]
    fields = ["status"]
    if locked.status == B.NOTICE:
        today = timezone.localdate()
        days = settings_for(locked.district).notice_days
        locked.notice_starts, locked.notice_ends = today, today + dt.timedelta(days=days - 1)
        fields += ["notice_starts", "notice_ends"]
        locked.entitlements.filter(status=EntitlementStatus.PENDING).update(status=EntitlementStatus.NOTICE)
    locked.save(update_fields=fields)
    _audit(acting_user, locked, "approved", request=request, reason=comment, level=level)
    return locked


@transaction.atomic
def reject(batch: ApprovalBatch, *, acting_user: Any, reason: str,
           request: HttpRequest | None = None) -> ApprovalBatch:
    """Return the batch to the maker with the reason."""
    locked = _locked(batch)
    level = _require_decider(acting_user, locked)
    reason = reason.strip()
    if len(reason) < 2:
        raise UserError("退回时请写明原因", field="reason")
    ApprovalStep.objects.create(batch=locked, level=level, decision=StepDecision.REJECTED, decided_by=acting_user,
                                comment=reason[:300])
    locked.status, locked.returned_reason = B.RETURNED, reason[:300]
    locked.save(update_fields=["status", "returned_reason"])
    _audit(acting_user, locked, "rejected", request=request, reason=reason, level=level)
    return locked


def _require_fixer(user: Any, batch: ApprovalBatch) -> None:
    if batch.status != B.RETURNED:
        raise UserError(f"该批次{batch.get_status_display()}，只有被退回的批次可以修改")
    if not can_fix(user, batch):
        raise PermissionDenied("只有经办人或本社区受理待遇的工作人员可以修改被退回的批次")


@transaction.atomic
def withdraw(entitlement: Entitlement, *, acting_user: Any, reason: str,
             request: HttpRequest | None = None) -> Entitlement:
    """Take one row out of a returned batch: it will not take effect."""
    if entitlement.batch_id is None:
        raise UserError("该待遇不在审批批次中")
    locked = _locked(ApprovalBatch(pk=entitlement.batch_id))
    _require_fixer(acting_user, locked)
    row = Entitlement.objects.select_for_update(of=("self",)).get(pk=entitlement.pk)
    if row.status != EntitlementStatus.PENDING:
        raise UserError(f"该待遇状态为“{row.get_status_display()}”，不能撤回")
    reason = reason.strip()
    if len(reason) < 2:
        raise UserError("撤回时请写明原因", field="reason")
    row.status, row.end_reason = EntitlementStatus.REJECTED, f"撤回：{reason}"[:300]
    row.save(update_fields=["status", "end_reason"])
    _audit(acting_user, locked, "withdrawn", request=request, reason=reason, person_id=row.person_id,
           entitlement=row.pk)
    return row


@transaction.atomic
def resubmit(batch: ApprovalBatch, *, acting_user: Any, comment: str = "",
             request: HttpRequest | None = None) -> ApprovalBatch:
    """Send a corrected batch back to the community step: a new round with fresh reviewers."""
    locked = _locked(batch)
    _require_fixer(acting_user, locked)
    if not locked.entitlements.filter(status=EntitlementStatus.PENDING).exists():
        raise UserError("批次中的待遇已全部撤回，无需重新提交")
    ApprovalStep.objects.create(batch=locked, level=StepLevel.COMMUNITY, decision=StepDecision.RESUBMITTED,
                                decided_by=acting_user, comment=comment.strip()[:300])
    locked.status, locked.returned_reason = B.COMMUNITY, ""
    locked.save(update_fields=["status", "returned_reason"])
    _audit(acting_user, locked, "resubmitted", request=request, reason=comment)
    return locked


# --- public notice, objections, activation ------------------------------------------------------


def notice_over(batch: ApprovalBatch, today: dt.date) -> bool:
    return batch.notice_ends is not None and today > batch.notice_ends


@transaction.atomic
def record_objection(batch: ApprovalBatch, *, objector: str, contact: str, content: str, acting_user: Any,
                     entitlement: Entitlement | None = None,
                     request: HttpRequest | None = None) -> NoticeObjection:
    """Record an objection raised during the notice (by anyone; staff write it down)."""
    locked = _locked(batch)
    if not can_record_objection(acting_user, locked):
        raise PermissionDenied("您没有登记公示异议的权限")
    if locked.status != B.NOTICE:
        raise UserError(f"该批次{locked.get_status_display()}，只能在公示期间登记异议")
    if notice_over(locked, timezone.localdate()):
        raise UserError(f"公示期已于 {cn_date(locked.notice_ends)} 结束，不能再登记异议")
    objector, content = objector.strip(), content.strip()
    if not objector:
        raise UserError("请填写异议人", field="objector")
    if len(content) < 4:
        raise UserError("请写明异议内容（至少 4 个字）", field="content")
    if entitlement is not None:
        _check_row_of(locked, entitlement)
    objection = NoticeObjection.objects.create(
        batch=locked, entitlement=entitlement, objector=objector[:100], contact=contact.strip()[:50],
        content=content[:2000], recorded_by=acting_user)
    _audit(acting_user, locked, "objection_recorded", request=request, reason=content[:200],
           person_id=entitlement.person_id if entitlement else None, objection=objection.pk)
    return objection


def _check_row_of(batch: ApprovalBatch, entitlement: Entitlement) -> None:
    if entitlement.batch_id != batch.pk:
        raise UserError("所选待遇不在该公示批次中", field="entitlement")
    if entitlement.status != EntitlementStatus.NOTICE:
        raise UserError(f"所选待遇状态为“{entitlement.get_status_display()}”，不在公示中", field="entitlement")


@transaction.atomic
def resolve_objection(objection: NoticeObjection, *, resolution: str, note: str, acting_user: Any,
                      entitlement: Entitlement | None = None,
                      request: HttpRequest | None = None) -> NoticeObjection:
    """Upheld: the row concerned is cancelled with the finding; dismissed: the notice stands."""
    locked = _locked(objection.batch)
    if not can_resolve_objection(acting_user, locked):
        raise PermissionDenied("公示异议由街道或区民政部门的审核人员核实处理")
    found = NoticeObjection.objects.select_for_update(of=("self",)).get(pk=objection.pk)
    if found.resolution != ObjectionResolution.OPEN:
        raise UserError(f"该异议已处理（{found.get_resolution_display()}）")
    if locked.status != B.NOTICE:
        raise UserError(f"该批次{locked.get_status_display()}，不能处理异议")
    if resolution not in (ObjectionResolution.UPHELD, ObjectionResolution.DISMISSED):
        raise UserError("请选择处理结果：异议成立或异议不成立", field="resolution")
    note = note.strip()
    if len(note) < 2:
        raise UserError("请写明核实情况", field="note")
    row: Entitlement | None = None
    if resolution == ObjectionResolution.UPHELD:
        row_id = found.entitlement_id or (entitlement.pk if entitlement is not None else None)
        if row_id is None:
            raise UserError("异议成立时须选择被取消的待遇", field="entitlement")
        row = Entitlement.objects.select_for_update(of=("self",)).get(pk=row_id)
        _check_row_of(locked, row)
        row.status, row.end_reason = EntitlementStatus.REJECTED, f"公示异议成立：{note}"[:300]
        row.save(update_fields=["status", "end_reason"])
        found.entitlement = row
    found.resolution, found.resolution_note = resolution, note[:500]
    found.resolved_by, found.resolved_at = acting_user, timezone.now()
    found.save(update_fields=["entitlement", "resolution", "resolution_note", "resolved_by", "resolved_at"])
    _audit(acting_user, locked, f"objection_{resolution}", request=request, reason=note,
           person_id=row.person_id if row else None, objection=found.pk)
    return found


def _activate(locked: ApprovalBatch, *, acting_user: Any, request: HttpRequest | None) -> int:
    rows = locked.entitlements.filter(status=EntitlementStatus.NOTICE).update(status=EntitlementStatus.ACTIVE)
    locked.status, locked.activated_at = B.ACTIVE, timezone.now()
    locked.activated_by = acting_user if _is_user(acting_user) else None
    locked.save(update_fields=["status", "activated_at", "activated_by"])
    _audit(acting_user, locked, "activated", request=request, rows=rows)
    return rows


@transaction.atomic
def activate(batch: ApprovalBatch, *, acting_user: Any, request: HttpRequest | None = None) -> ApprovalBatch:
    """After the notice has ended with every objection resolved, the rows take effect."""
    locked = _locked(batch)
    if not can_activate(acting_user, locked):
        raise PermissionDenied("公示期满后由区民政部门确认生效")
    if locked.status != B.NOTICE:
        raise UserError(f"该批次{locked.get_status_display()}，只有公示中的批次可以生效")
    if not notice_over(locked, timezone.localdate()):
        assert locked.notice_ends is not None  # noqa: S101 - set when the notice starts
        raise UserError(f"公示期至 {cn_date(locked.notice_ends)} 结束，"
                        f"{cn_date(locked.notice_ends + dt.timedelta(days=1))} 起方可确认生效")
    open_count = locked.objections.filter(resolution=ObjectionResolution.OPEN).count()
    if open_count:
        raise UserError(f"尚有 {open_count} 条公示异议未处理，处理完毕后方可生效")
    _activate(locked, acting_user=acting_user, request=request)
    return locked


def due_for_activation(today: dt.date) -> QuerySet[ApprovalBatch]:
    """Batches whose notice has ended with no open objection."""
    open_objection = NoticeObjection.objects.filter(batch=OuterRef("pk"), resolution=ObjectionResolution.OPEN)
    return ApprovalBatch.objects.filter(status=B.NOTICE, notice_ends__lt=today).exclude(Exists(open_objection))


def activate_due_notices(today: dt.date, user: Any = None) -> int:
    """Activate every batch whose notice is over, one transaction per batch. Rows are claimed with
    SELECT … FOR UPDATE SKIP LOCKED (PostgreSQL), so several workers may run side by side; a batch
    already activated no longer matches, so running again does nothing."""
    done = 0
    while True:
        with transaction.atomic():
            batch = (due_for_activation(today).select_for_update(skip_locked=True, of=("self",))
                     .select_related("community", "district").order_by("notice_ends", "id").first())
            if batch is None:
                return done
            _activate(batch, acting_user=user, request=None)
            done += 1


# --- settings ----------------------------------------------------------------------------------


def settings_for(district: Region) -> EligibilitySettings:
    """The district's settings (defaults until the district changes them)."""
    return EligibilitySettings.objects.filter(district=district).first() or EligibilitySettings(district=district)


@transaction.atomic
def update_settings(district: Region, *, notice_days: int, acting_user: Any,
                    request: HttpRequest | None = None) -> EligibilitySettings:
    """The number of days of public notice; applies to batches that go on notice from now on."""
    if not can_manage(acting_user, district):
        raise PermissionDenied("您没有设置公示天数的权限")
    if not MIN_NOTICE_DAYS <= notice_days <= MAX_NOTICE_DAYS:
        raise UserError(f"公示天数须在 {MIN_NOTICE_DAYS} 到 {MAX_NOTICE_DAYS} 天之间", field="notice_days")
    found, _ = EligibilitySettings.objects.update_or_create(
        district=district, defaults={"notice_days": notice_days, "updated_by": acting_user})
    record_event(acting_user, AuditAction.MANAGE_POLICY, request=request, subject=f"{district.name}待遇公示天数",
                 detail={"notice_days": notice_days})
    return found


# --- what the notice shows -----------------------------------------------------------------------


@dataclass
class NoticeRow:
    number: int
    name: str  # masked
    id_number: str  # masked
    community: str
    policy: str
    amount: Decimal
    change: str


def notice_title(batch: ApprovalBatch) -> str:
    return f"{batch.district.name}{batch.month.year}年{batch.month.month}月养老服务补贴享受对象公示"


def notice_rows(batch: ApprovalBatch) -> list[NoticeRow]:
    """The rows on notice (or taken effect after it), names and ID numbers masked."""
    rows = (batch.entitlements.filter(status__in=(EntitlementStatus.NOTICE, EntitlementStatus.ACTIVE))
            .select_related("person__residence_region", "policy").order_by("person__residence_region__code",
                                                                            "person_id", "policy_id"))
    return [NoticeRow(number=i, name=r.person.masked_name, id_number=r.person.id_number_masked or "未登记",
                      community=r.person.residence_region.name, policy=r.policy.name, amount=r.amount,
                      change=r.get_change_display()) for i, r in enumerate(rows, start=1)]


@dataclass
class Contact:
    name: str
    phone: str


def objection_contacts(batch: ApprovalBatch) -> list[Contact]:
    """Where to raise an objection: the community committee, the street office, the bureau."""
    regions = [batch.community_id, batch.community.parent_id, batch.district_id]
    kinds = (OrganizationKind.COMMUNITY_COMMITTEE, OrganizationKind.STREET_OFFICE,
             OrganizationKind.CIVIL_AFFAIRS_BUREAU)
    orgs = Organization.objects.filter(region_id__in=[r for r in regions if r], kind__in=kinds, is_active=True)
    order = {OrganizationKind.COMMUNITY_COMMITTEE: 0, OrganizationKind.STREET_OFFICE: 1,
             OrganizationKind.CIVIL_AFFAIRS_BUREAU: 2}
    return [Contact(o.name, o.contact_phone) for o in sorted(orgs, key=lambda o: (order[OrganizationKind(o.kind)],
                                                                                   o.name))]


def notice_text(batch: ApprovalBatch) -> str:
    """The notice's introduction: what is published, for how long, and how to object."""
    starts, ends = batch.notice_starts, batch.notice_ends
    if starts is None or ends is None:
        raise UserError("该批次尚未进入公示")
    days = (ends - starts).days + 1
    street = batch.community.parent.name if batch.community.parent else ""
    return (f"经社区审核、街道审核、区民政局审批，{street}{batch.community.name}以下人员符合"
            f"{batch.month.year}年{batch.month.month}月养老服务补贴享受条件，现予公示。"
            f"公示期自 {cn_date(starts)} 至 {cn_date(ends)}，共 {days} 天。"
            "公示期间，任何单位和个人如有异议，可向下列单位实名反映，请写明异议对象和具体事实并留下联系方式；"
            "异议经核实处理后，公示期满无异议或异议不成立的，自公示期满次日起享受。")


def notice_xlsx(batch: ApprovalBatch, rows: Sequence[NoticeRow]) -> bytes:
    """The notice as a workbook to print and post: title, period, how to object, the masked table."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None  # noqa: S101 - a new workbook always has a sheet
    ws.title = "公示名单"
    columns = ("序号", "姓名", "身份证号", "社区", "补贴项目", "标准（元）")
    widths = (7, 10, 22, 14, 30, 12)
    ws.append([notice_title(batch)])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(columns))
    ws["A1"].font = Font(bold=True, size=15)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.append([notice_text(batch)])
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(columns))
    ws["A2"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[2].height = 75
    contacts = "；".join(f"{c.name}{('（' + c.phone + '）') if c.phone else ''}" for c in objection_contacts(batch))
    ws.append([f"受理异议：{contacts}" if contacts else "受理异议：所在社区居委会、街道办事处或区民政局"])
    ws.merge_cells(start_row=3, start_column=1, end_row=3, end_column=len(columns))
    ws["A3"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[3].height = 30
    ws.append(list(columns))
    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for cell in ws[4]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center")
        cell.border = border
    for r in rows:
        ws.append([r.number, r.name, r.id_number, r.community, r.policy, r.amount])
        for cell in ws[ws.max_row]:
            cell.border = border
        ws.cell(ws.max_row, 6).number_format = "0.00"
    ws.append([])
    ws.append([f"共 {len(rows)} 人次。"])
    ws.append([f"{batch.district.name}民政局　{cn_date(batch.notice_starts or timezone.localdate())}"])
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[chr(ord("A") + index - 1)].width = width
    ws.print_title_rows = "4:4"
    ws.page_setup.orientation = "portrait"
    ws.page_setup.fitToWidth = 1
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def record_notice_export(batch: ApprovalBatch, *, acting_user: Any, rows: int, kind: str,
                         request: HttpRequest | None = None) -> None:
    """Every printed or exported notice is an export of personal data, masked or not."""
    record_event(acting_user, AuditAction.EXPORT_ENTITLEMENTS, request=request, row_count=rows,
                 subject=f"公示名单 批次 {batch.pk}（{batch.community.name}，{batch.month:%Y年%m月}）",
                 detail={"batch": batch.pk, "kind": kind})


def record_rows_view(batch: ApprovalBatch, *, acting_user: Any, rows: int,
                     request: HttpRequest | None = None) -> None:
    record_event(acting_user, AuditAction.VIEW_ENTITLEMENTS, request=request, row_count=rows,
                 subject=f"待遇审批批次 {batch.pk}（{batch.community.name}，{batch.month:%Y年%m月}）",
                 detail={"batch": batch.pk})
