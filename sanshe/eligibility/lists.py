"""The lists behind the monthly run's pages and API: a run's entitlement list and ended list
(scoped to the user's regions, masked, audited, exportable), the list of applications, and the
simulation of a policy change. Interfaces parse and authorise; the queries and rows are here."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from openpyxl import Workbook

from sanshe.accounts.models import Region
from sanshe.core.audit import record_event
from sanshe.core.errors import UserError
from sanshe.core.models import AuditAction
from sanshe.eligibility import actions, authoring
from sanshe.eligibility.access import scoped, visible_applications
from sanshe.eligibility.models import (
    Application,
    Entitlement,
    EntitlementRun,
    EntitlementStatus,
    Policy,
    PolicyStatus,
    PolicyVersion,
    RunStatus,
)
from sanshe.eligibility.queries import facts_for, fields, reason_checks
from sanshe.eligibility.rules import evaluate
from sanshe.eligibility.tasks import month_text
from sanshe.people.models import Person


def previous_run(run: EntitlementRun) -> EntitlementRun | None:
    """The finished run of the month before (the difference and the ended list compare with it)."""
    return (EntitlementRun.objects.filter(district_id=run.district_id, month=actions.previous_month(run.month),
                                          status=RunStatus.DONE).order_by("-id").first())


def page_number(request: HttpRequest) -> int:
    """The page a list page asks for (?page=2), 1 when missing or not a number."""
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


# --- the entitlement and ended lists --------------------------------------------------------------


@dataclass
class RowFilter:
    region: Region | None = None
    policy: Policy | None = None
    change: str = ""
    status: str = ""

    def as_detail(self) -> dict[str, str]:
        return {k: v for k, v in {"region": self.region.code if self.region else "",
                                  "policy": self.policy.code if self.policy else "",
                                  "change": self.change, "status": self.status}.items() if v}


def entitlement_rows(user: Any, run: EntitlementRun, f: RowFilter) -> QuerySet[Entitlement]:
    """The run's entitlements the user may see, filtered, in community order."""
    qs = scoped(user, run.rows.all())
    if f.region is not None:
        qs = qs.filter(person__residence_region__code__startswith=f.region.prefix)
    if f.policy is not None:
        qs = qs.filter(policy=f.policy)
    if f.change:
        qs = qs.filter(change=f.change)
    if f.status:
        qs = qs.filter(status=f.status)
    return (qs.select_related("person__residence_region__parent", "policy__fund", "version")
            .order_by("person__residence_region__code", "person_id", "policy_id"))


def ended_rows(user: Any, run: EntitlementRun, f: RowFilter) -> QuerySet[Entitlement]:
    """What stood at the end of last month with no entitlement of the same person and policy this
    month (as the run's difference counts them)."""
    before = previous_run(run)
    if before is None:
        return Entitlement.objects.none()
    still = (Entitlement.objects.filter(run=run, person_id=OuterRef("person_id"), policy_id=OuterRef("policy_id"))
             .exclude(status=EntitlementStatus.REJECTED))
    qs = scoped(user, before.rows.filter(status__in=actions.STANDING, ended_on__isnull=True).exclude(Exists(still)))
    if f.region is not None:
        qs = qs.filter(person__residence_region__code__startswith=f.region.prefix)
    if f.policy is not None:
        qs = qs.filter(policy=f.policy)
    return (qs.select_related("person__residence_region__parent", "person__registered_region", "person__capability",
                              "policy__fund", "version")
            .order_by("person__residence_region__code", "person_id", "policy_id"))


def end_reasons(run: EntitlementRun, rows: list[Entitlement]) -> dict[int, str]:
    """Why each ended row ended, as far as the file tells: death or moving away, a more generous
    benefit of the same group this month, or the first condition no longer met."""
    in_force = {v.policy_id: v for v in actions.versions_in_force(run.district, run.month)}
    now_held: dict[int, list[Policy]] = {}
    for e in Entitlement.objects.filter(run=run, person_id__in={r.person_id for r in rows}).select_related("policy"):
        now_held.setdefault(e.person_id, []).append(e.policy)
    reasons: dict[int, str] = {}
    for row in rows:
        person = row.person
        if person.status in actions.GONE and person.status_since and person.status_since <= run.month:
            reasons[row.pk] = f"{person.get_status_display()}（{person.status_since:%Y-%m-%d}）"
            continue
        group = row.policy.exclusivity_group
        replacement = next((p for p in now_held.get(person.pk, []) if group and p.exclusivity_group == group), None)
        if replacement is not None:
            reasons[row.pk] = f"改为享受“{replacement.name}”（同组就高）"
            continue
        version = in_force.get(row.policy_id)
        if version is None:
            reasons[row.pk] = "该政策已停止施行或没有本月适用的版本"
            continue
        outcome = evaluate(version.condition, facts_for(person, run.month), fields())
        reasons[row.pk] = (f"不再符合条件：{outcome.first_failure}" if not outcome.passed
                           else "与本月享受的其他待遇不能同时享受")
    return reasons


def row_out(e: Entitlement, *, end_reason: str = "") -> dict[str, Any]:
    """One entitlement for display or the API: masked name and ID number, never the full ones."""
    person = e.person
    community = person.residence_region
    reason: dict[str, Any] = e.reason if isinstance(e.reason, dict) else {}
    return {
        "id": e.pk, "person_id": person.pk, "name": person.masked_name, "id_number": person.id_number_masked,
        "street": community.parent.name if community.parent else "", "community": community.name,
        "policy_code": e.policy.code, "policy": e.policy.name, "fund": e.policy.fund.name,
        "amount": e.amount, "payable": e.payable, "change": e.change, "change_label": e.get_change_display(),
        "status": e.status, "status_label": e.get_status_display(), "source": e.source,
        "starts_on": e.starts_on, "ended_on": e.ended_on,
        "reasons": reason_checks(e.version.condition, reason) if reason else [],
        "competing": [str(c) for c in reason.get("competing", [])],
        "end_reason": end_reason,
    }


def list_title(run: EntitlementRun, *, ended: bool = False) -> str:
    return f"{run.district.name}{month_text(run.month)}{'终止待遇名单' if ended else '待遇名单'}"


def record_list_view(user: Any, run: EntitlementRun, f: RowFilter, *, ended: bool, count: int, page: int,
                     request: HttpRequest | None) -> None:
    record_event(user, AuditAction.VIEW_ENTITLEMENTS, request=request, subject=list_title(run, ended=ended),
                 row_count=count, detail={"run": run.pk, "ended": ended, "page": page, "filter": f.as_detail()})


def export_rows(user: Any, run: EntitlementRun, f: RowFilter, *, ended: bool,
                request: HttpRequest | None) -> tuple[bytes, str]:
    """The list as a masked workbook, audited; refused above the export limit."""
    qs = ended_rows(user, run, f) if ended else entitlement_rows(user, run, f)
    total = qs.count()
    if total > settings.EXPORT_MAX_ROWS:
        raise UserError(f"名单共 {total} 条，超过单次导出上限 {settings.EXPORT_MAX_ROWS} 条，请按街道或社区筛选后分别导出")
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("待遇名单" if not ended else "终止名单")
    title = list_title(run, ended=ended)
    ws.append([title])
    ws.append([f"导出时间：{timezone.localtime():%Y-%m-%d %H:%M}；姓名和身份证号已脱敏"])
    header = ["序号", "姓名", "身份证号", "街道", "社区", "政策", "资金来源", "标准（元）"]
    header += ["终止原因"] if ended else ["本月应发（元）", "与上月相比", "状态", "依据"]
    ws.append(header)
    number = 0
    batch: list[Entitlement] = []

    def flush() -> None:
        nonlocal number
        reasons = end_reasons(run, batch) if ended else {}
        for e in batch:
            number += 1
            r = row_out(e, end_reason=reasons.get(e.pk, ""))
            line: list[Any] = [number, r["name"], r["id_number"], r["street"], r["community"], r["policy"], r["fund"],
                               r["amount"]]
            if ended:
                line.append(r["end_reason"])
            else:
                line += [r["payable"], r["change_label"], r["status_label"], "；".join(r["reasons"])]
            ws.append(line)
        batch.clear()

    for e in qs.iterator(chunk_size=2000):
        batch.append(e)
        if len(batch) >= 2000:
            flush()
    flush()
    out = io.BytesIO()
    wb.save(out)
    record_event(user, AuditAction.EXPORT_ENTITLEMENTS, request=request, subject=title, row_count=number,
                 detail={"run": run.pk, "ended": ended, "filter": f.as_detail()})
    return out.getvalue(), f"{title}（脱敏）.xlsx"


# --- applications ---------------------------------------------------------------------------------


def policies_open_to(person: Person) -> QuerySet[Policy]:
    """Policies in force in the district the person lives in."""
    return (Policy.objects.filter(status=PolicyStatus.ACTIVE, district__code=person.residence_region.code[:6].ljust(12, "0"))
            .select_related("fund").order_by("proactive", "code"))


def application_out(a: Application) -> dict[str, Any]:
    """One application for display or the API: the masked name, never the full one."""
    outcome: dict[str, Any] = a.outcome if isinstance(a.outcome, dict) else {}
    community = a.person.residence_region
    entitlement = a.entitlement
    return {
        "id": a.pk, "person_id": a.person_id, "person_name": a.person.masked_name,
        "street": community.parent.name if community.parent else "", "community": community.name,
        "policy_id": a.policy_id, "policy_code": a.policy.code, "policy": a.policy.name,
        "applicant": a.applicant, "applied_on": a.applied_on, "status": a.status, "status_label": a.get_status_display(),
        "checks": [str(c) for c in outcome.get("checks", [])], "failure": str(outcome.get("failure") or ""),
        "note": str(outcome.get("note") or ""),
        "entitlement_id": entitlement.pk if entitlement else None,
        "batch_id": entitlement.batch_id if entitlement else None,
        "recorded_by": a.recorded_by.display_name, "recorded_at": a.recorded_at,
    }


def list_applications(user: Any, *, status: str = "", policy: Policy | None = None,
                      person: Person | None = None) -> QuerySet[Application]:
    qs = visible_applications(user)
    if status:
        qs = qs.filter(status=status)
    if policy is not None:
        qs = qs.filter(policy=policy)
    if person is not None:
        qs = qs.filter(person=person)
    return qs.select_related("person__residence_region__parent", "policy", "recorded_by", "entitlement").order_by(
        "-applied_on", "-id")


def record_applications_view(user: Any, *, count: int, page: int, filters: dict[str, Any],
                     request: HttpRequest | None) -> None:
    record_event(user, AuditAction.VIEW_ENTITLEMENTS, request=request, subject="待遇申请名单", row_count=count,
                 detail={"applications": True, "page": page, "filter": {k: v for k, v in filters.items() if v}})


# --- simulation -----------------------------------------------------------------------------------


def version_for(policy: Policy, month: dt.date) -> PolicyVersion | None:
    """The version in force on the first day of the month, else the newest one."""
    versions = list(policy.versions.order_by("-effective_from"))
    return authoring.version_in_force(versions, month) or (versions[0] if versions else None)


def run_simulation(policy: Policy, month: dt.date, *, condition: Any, amount: Decimal) -> actions.Simulation:
    """The simulation with the same checks as a new version (region conditions must name a street or
    community of the policy's district)."""
    authoring.check_condition(condition, district=policy.district)
    return actions.simulate(policy.district, month, policy=policy, condition=condition, amount=amount)


def simulation_rows(result: actions.Simulation) -> dict[str, Any]:
    return {
        "change": result.cost_after - result.cost_before,
        "street_rows": sorted(result.by_street.items(), key=lambda kv: kv[0]),
        "fund_rows": sorted(result.by_fund.items(), key=lambda kv: (-abs(kv[1]), kv[0])),
    }
