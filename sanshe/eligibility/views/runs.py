"""The monthly run as pages: start a run (a background job, polled while it runs), the list of
runs, a run's difference from the previous month, the entitlement list and the ended list (masked,
audited, exportable), and the simulation of a policy change. The scoped queries here are shared
with the API (eligibility.api.runs)."""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from sanshe.accounts.access import capability_scope, has_capability
from sanshe.accounts.http import AuthedRequest
from sanshe.accounts.models import Capability, Region, RegionLevel
from sanshe.core.audit import record_event
from sanshe.core.downloads import xlsx_response
from sanshe.core.errors import UserError
from sanshe.core.forms import PlatformForm
from sanshe.core.models import AuditAction
from sanshe.eligibility import actions, authoring
from sanshe.eligibility.models import (
    ChangeFromPrevious,
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
from sanshe.eligibility.tasks import (
    JobState,
    check_month_open,
    find_job,
    job_state,
    month_text,
    next_month_to_compute,
    start_month_run,
)

PAGE_SIZE = 30
RUNS_PAGE_SIZE = 24
NOT_FOUND = "没有找到该月度待遇计算"


# --- scope ----------------------------------------------------------------------------------------


def _district_q(prefixes: tuple[str, ...], field: str = "district__code") -> Q:
    """Districts a scope reaches: those under a shorter prefix, or the one a longer prefix lies in."""
    q = Q(pk__in=[])
    for prefix in prefixes:
        if len(prefix) >= 6:
            q |= Q(**{field: prefix[:6].ljust(12, "0")})
        else:
            q |= Q(**{f"{field}__startswith": prefix})
    return q


def _reading_prefixes(user: Any) -> tuple[str, ...]:
    view = capability_scope(user, Capability.VIEW_ENTITLEMENTS).prefixes
    manage = capability_scope(user, Capability.MANAGE_POLICIES).prefixes
    return tuple(sorted(set(view) | set(manage)))


def can_read_runs(user: Any) -> bool:
    return has_capability(user, Capability.VIEW_ENTITLEMENTS) or has_capability(user, Capability.MANAGE_POLICIES)


def visible_runs(user: Any) -> QuerySet[EntitlementRun]:
    """Runs of the districts where the user sees entitlements or manages policies."""
    prefixes = _reading_prefixes(user)
    if not prefixes:
        return EntitlementRun.objects.none()
    return EntitlementRun.objects.filter(_district_q(prefixes))


def access_run(user: Any, run_id: Any) -> EntitlementRun:
    """A run the user may see; missing and not yours both 404."""
    try:
        pk = int(run_id)
    except (TypeError, ValueError):
        raise Http404(NOT_FOUND) from None
    run = visible_runs(user).select_related("district", "started_by").filter(pk=pk).first()
    if run is None:
        raise Http404(NOT_FOUND)
    return run


def managed_districts(user: Any) -> QuerySet[Region]:
    """Districts whose policies and runs the user manages (a district membership or above)."""
    scope = capability_scope(user, Capability.MANAGE_POLICIES)
    return Region.objects.filter(scope.region_q(), level=RegionLevel.DISTRICT).order_by("code")


def can_manage(user: Any, district: Region) -> bool:
    return capability_scope(user, Capability.MANAGE_POLICIES).covers(district.code)


def covers_district(user: Any, district: Region) -> bool:
    """Whether the user sees every row of the district (no region filter needed)."""
    return capability_scope(user, Capability.VIEW_ENTITLEMENTS).covers(district.code)


def scoped(user: Any, rows: QuerySet[Entitlement]) -> QuerySet[Entitlement]:
    """Only rows of people living in the user's regions (a street officer sees their street)."""
    return rows.filter(capability_scope(user, Capability.VIEW_ENTITLEMENTS).region_q("person__residence_region__code"))


def previous_run(run: EntitlementRun) -> EntitlementRun | None:
    return (EntitlementRun.objects.filter(district_id=run.district_id, month=actions.previous_month(run.month),
                                          status=RunStatus.DONE).order_by("-id").first())


# --- the lists ------------------------------------------------------------------------------------


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


# --- forms ----------------------------------------------------------------------------------------


class MonthField(forms.CharField):
    """A month as the browser's month input sends it ("2026-12"), cleaned to its first day."""

    widget = forms.TextInput(attrs={"type": "month", "placeholder": "2026-12"})

    def to_python(self, value: Any) -> Any:
        text = str(super().to_python(value) or "").strip()
        if not text:
            return None
        try:
            return dt.datetime.strptime(text[:7], "%Y-%m").date()  # noqa: DTZ007 - a calendar month, no time
        except ValueError:
            raise forms.ValidationError("月份格式应为“年-月”，如 2026-12") from None

    def prepare_value(self, value: Any) -> Any:
        return f"{value:%Y-%m}" if isinstance(value, dt.date) else value


class RegionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{'　' if obj.level == RegionLevel.COMMUNITY else ''}{obj.name}"


class PolicyChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.get_status_display()}）" if obj.status != PolicyStatus.ACTIVE else obj.name


class RowFilterForm(PlatformForm, forms.Form):
    region = RegionChoiceField(label="街道/社区", queryset=Region.objects.none(), required=False,
                               empty_label="全部辖区")
    policy = PolicyChoiceField(label="政策", queryset=Policy.objects.none(), required=False, empty_label="全部政策")
    change = forms.ChoiceField(label="与上月相比", required=False, choices=[("", "全部"), *ChangeFromPrevious.choices])
    status = forms.ChoiceField(label="状态", required=False, choices=[("", "全部"), *EntitlementStatus.choices])

    def __init__(self, *args: Any, user: Any, run: EntitlementRun, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scope = capability_scope(user, Capability.VIEW_ENTITLEMENTS)
        region = cast(forms.ModelChoiceField, self.fields["region"])
        region.queryset = Region.objects.filter(scope.region_q(), code__startswith=run.district.prefix,
                                                level__in=(RegionLevel.STREET, RegionLevel.COMMUNITY)).order_by("code")
        policy = cast(forms.ModelChoiceField, self.fields["policy"])
        policy.queryset = Policy.objects.filter(district=run.district).order_by("code")

    def to_filter(self) -> RowFilter:
        if not self.is_bound or not self.is_valid():
            return RowFilter()
        data = self.cleaned_data
        return RowFilter(region=data.get("region"), policy=data.get("policy"), change=data.get("change") or "",
                         status=data.get("status") or "")


class StartRunForm(PlatformForm, forms.Form):
    district = forms.ModelChoiceField(label="区县", queryset=Region.objects.none(), empty_label=None)
    month = MonthField(label="计算月份", help_text="每月计算一次；已计算的月份不会被重新计算")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["district"]).queryset = managed_districts(user)


def simulation_policies(user: Any) -> QuerySet[Policy]:
    """Policies the user may try changes on: those of the districts they manage, not retired."""
    return (Policy.objects.filter(district__in=managed_districts(user)).exclude(status=PolicyStatus.RETIRED)
            .select_related("district", "fund").order_by("code"))


class SimulationForm(PlatformForm, forms.Form):
    policy = PolicyChoiceField(label="政策", queryset=Policy.objects.none(), empty_label="请选择")
    month = MonthField(label="按哪个月的人员测算")
    amount = forms.DecimalField(label="金额（元）", max_digits=10, decimal_places=2, min_value=Decimal(0))
    condition = forms.CharField(label="享受条件", widget=forms.HiddenInput,  # posted by the condition builder
                                error_messages={"required": "请设置条件"})

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["policy"]).queryset = simulation_policies(user)

    def clean_condition(self) -> Any:
        try:
            return authoring.parse_condition(self.cleaned_data["condition"])
        except UserError as exc:
            raise forms.ValidationError(exc.message) from None


# --- pages: runs ----------------------------------------------------------------------------------


def _page(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


def _require_read(request: AuthedRequest) -> None:
    if not can_read_runs(request.user):
        raise PermissionDenied("您没有查看待遇的权限")


def run_list(request: AuthedRequest) -> HttpResponse:
    _require_read(request)
    page = _page(request)
    start = (page - 1) * RUNS_PAGE_SIZE
    runs = list(visible_runs(request.user).select_related("district", "started_by")
                .order_by("-month", "-id")[start:start + RUNS_PAGE_SIZE + 1])
    districts = {r.district_id for r in runs}
    return render(request, "eligibility/runs/list.html", {
        "runs": runs[:RUNS_PAGE_SIZE], "page": page, "has_next": len(runs) > RUNS_PAGE_SIZE,
        "show_district": len(districts) > 1, "can_start": managed_districts(request.user).exists(),
    })


def run_start(request: AuthedRequest) -> HttpResponse:
    districts = list(managed_districts(request.user))
    if not districts:
        raise PermissionDenied("您没有计算月度待遇的权限")
    district, month = districts[0], next_month_to_compute(districts[0], timezone.localdate())
    form = StartRunForm(request.POST or None, user=request.user, initial={"district": district, "month": month})
    notice = ""
    if request.method == "POST" and form.is_valid():
        district, month = form.cleaned_data["district"], form.cleaned_data["month"]
        try:
            result = start_month_run(district, month, acting_user=request.user, request=request)
        except UserError as exc:
            form.add_error("month" if exc.field == "month" else None, exc.message)
        else:
            if not result.is_finished:
                messages.success(request, f"已开始计算{district.name}{month_text(month)}的待遇，计算在后台进行，可以离开本页")
                return redirect("eligibility:run_job", job_id=result.id)
            state = job_state(result)
            if state.status == "done" and state.run_id:
                messages.success(request, f"{district.name}{month_text(month)}的待遇已计算完成")
                return redirect("eligibility:run_detail", run_id=state.run_id)
            if state.status == "refused":
                form.add_error("month", state.message)
            else:
                return render(request, "eligibility/runs/job.html", {"job": state, "district": district})
    elif request.method == "GET":
        try:
            check_month_open(district, month)
        except UserError as exc:
            notice = exc.message
    recent = (EntitlementRun.objects.filter(district__in=districts).select_related("district", "started_by")
              .order_by("-month", "-id")[:6])
    return render(request, "eligibility/runs/start.html", {
        "form": form, "single_district": len(districts) == 1, "district": district, "month": month,
        "in_force": actions.versions_in_force(district, month), "recent": recent, "notice": notice,
    }, status=400 if form.errors else 200)


def _job_for(request: AuthedRequest, job_id: str) -> tuple[JobState, Region]:
    job = find_job(job_id)
    district = Region.objects.filter(pk=job.district_id).first() if job else None
    if job is None or district is None or not can_manage(request.user, district):
        raise Http404("没有找到该计算任务")
    return job, district


def run_job(request: AuthedRequest, job_id: str) -> HttpResponse:
    """A queued or running run; the status area polls itself and opens the run once it is done."""
    job, district = _job_for(request, job_id)
    context = {"job": job, "district": district}
    if request.htmx:
        response = render(request, "eligibility/runs/_job_status.html", context)
        if job.status == "done" and job.run_id:
            response["HX-Redirect"] = reverse("eligibility:run_detail", kwargs={"run_id": job.run_id})
        return response
    return render(request, "eligibility/runs/job.html", context)


def _diff_context(run: EntitlementRun) -> dict[str, Any]:
    diff = actions.month_diff(run)
    before = previous_run(run)
    previous_total = before.total_amount if before else None
    fund_rows = sorted(diff.cost_by_fund.items(), key=lambda kv: (-kv[1], kv[0]))
    street_rows = sorted(diff.cost_by_street.items(), key=lambda kv: kv[0])
    return {
        "diff": diff, "previous": before, "previous_total": previous_total,
        "total_change": run.total_amount - previous_total if previous_total is not None else None,
        "fund_rows": fund_rows, "street_rows": street_rows,
    }


def run_detail(request: AuthedRequest, run_id: int) -> HttpResponse:
    _require_read(request)
    run = access_run(request.user, run_id)
    context: dict[str, Any] = {"run": run, "whole_district": covers_district(request.user, run.district),
                               "can_view_rows": has_capability(request.user, Capability.VIEW_ENTITLEMENTS),
                               "can_manage": can_manage(request.user, run.district)}
    if run.status == RunStatus.DONE:
        context.update(_diff_context(run))
    return render(request, "eligibility/runs/detail.html", context)


def run_status(request: AuthedRequest, run_id: int) -> HttpResponse:
    """Polled by a run's page while the run is still being computed."""
    _require_read(request)
    run = access_run(request.user, run_id)
    response = render(request, "eligibility/runs/_run_status.html", {"run": run})
    if run.status != RunStatus.RUNNING:
        response["HX-Refresh"] = "true"
    return response


def _require_rows(request: AuthedRequest) -> None:
    if not has_capability(request.user, Capability.VIEW_ENTITLEMENTS):
        raise PermissionDenied("您没有查看待遇名单的权限")


def _list_context(request: AuthedRequest, run: EntitlementRun, *, ended: bool) -> dict[str, Any]:
    form = RowFilterForm(request.GET or None, user=request.user, run=run)
    f = form.to_filter()
    qs = ended_rows(request.user, run, f) if ended else entitlement_rows(request.user, run, f)
    total = qs.count()
    page = _page(request)
    start = (page - 1) * PAGE_SIZE
    rows = list(qs[start:start + PAGE_SIZE])
    reasons = end_reasons(run, rows) if ended else {}
    query = request.GET.copy()
    query.pop("page", None)
    record_list_view(request.user, run, f, ended=ended, count=len(rows), page=page, request=request)
    return {
        "run": run, "form": form, "rows": [row_out(e, end_reason=reasons.get(e.pk, "")) for e in rows],
        "total": total, "page": page, "has_next": start + PAGE_SIZE < total, "query": query.urlencode(),
        "ended": ended, "whole_district": covers_district(request.user, run.district),
        "previous": previous_run(run) if ended else None,
    }


def _rows_page(request: AuthedRequest, run_id: int, *, ended: bool) -> HttpResponse:
    _require_rows(request)
    run = access_run(request.user, run_id)
    if run.status != RunStatus.DONE:
        raise Http404("该月待遇尚未计算完成")
    context = _list_context(request, run, ended=ended)
    template = "eligibility/runs/_rows.html" if request.htmx else "eligibility/runs/rows.html"
    return render(request, template, context)


def run_entitlements(request: AuthedRequest, run_id: int) -> HttpResponse:
    return _rows_page(request, run_id, ended=False)


def run_ended(request: AuthedRequest, run_id: int) -> HttpResponse:
    return _rows_page(request, run_id, ended=True)


def _export(request: AuthedRequest, run_id: int, *, ended: bool) -> HttpResponse:
    _require_rows(request)
    run = access_run(request.user, run_id)
    if run.status != RunStatus.DONE:
        raise Http404("该月待遇尚未计算完成")
    f = RowFilterForm(request.GET or None, user=request.user, run=run).to_filter()
    try:
        content, name = export_rows(request.user, run, f, ended=ended, request=request)
    except UserError as exc:
        messages.error(request, exc.message)
        target = "eligibility:run_ended" if ended else "eligibility:run_entitlements"
        return redirect(f"{reverse(target, kwargs={'run_id': run.pk})}?{request.GET.urlencode()}")
    return xlsx_response(content, name)


def export_entitlements(request: AuthedRequest, run_id: int) -> HttpResponse:
    return _export(request, run_id, ended=False)


def export_ended(request: AuthedRequest, run_id: int) -> HttpResponse:
    return _export(request, run_id, ended=True)


# --- simulation -----------------------------------------------------------------------------------


def version_for(policy: Policy, month: dt.date) -> PolicyVersion | None:
    """The version in force on the first day of the month, else the newest one."""
    versions = list(policy.versions.order_by("-effective_from"))
    for v in versions:
        if v.effective_from <= month and (v.effective_to is None or v.effective_to >= month):
            return v
    return versions[0] if versions else None


def builder_context(district: Region | None, condition: Any, error: UserError | None = None) -> dict[str, Any]:
    """The shared condition builder (templates/eligibility/policies/_condition_builder.html)."""
    if district is None:
        return {}
    return authoring.builder_context(district, condition, error=error)


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


def _chosen_policy(user: Any, raw: str | None) -> Policy | None:
    if not (raw or "").isdigit():
        return None
    return simulation_policies(user).filter(pk=int(raw or 0)).first()


def simulate_page(request: AuthedRequest) -> HttpResponse:
    """Try a policy's amount and condition on a month's population; nothing is written."""
    if not managed_districts(request.user).exists():
        raise PermissionDenied("您没有测算政策调整的权限")
    this_month = actions.first_of_month(timezone.localdate())
    context: dict[str, Any] = {}
    status = 200
    condition_error: UserError | None = None
    if request.method == "POST":
        form = SimulationForm(request.POST, user=request.user)
        policy = _chosen_policy(request.user, request.POST.get("policy"))
        try:
            condition: Any = json.loads(request.POST.get("condition") or "null")
        except ValueError:
            condition = None
        if form.is_valid():
            policy, month = form.cleaned_data["policy"], form.cleaned_data["month"]
            try:
                result = run_simulation(policy, month, condition=form.cleaned_data["condition"],
                                        amount=form.cleaned_data["amount"])
            except UserError as exc:
                on_condition = (exc.field or "").startswith("condition")
                condition_error = exc if on_condition else None
                form.add_error("condition" if on_condition else None, exc.message)
            else:
                context.update(result=result, month=month, **simulation_rows(result))
        if form.errors:
            status = 400
        if condition_error is None and form.errors.get("condition"):
            condition_error = UserError(str(form.errors["condition"][0]), field="condition")
    else:
        policy = _chosen_policy(request.user, request.GET.get("policy"))
        condition = None
        initial: dict[str, Any] = {"month": this_month}
        if policy is not None:
            initial["policy"] = policy
            version = version_for(policy, this_month)
            if version is not None:
                condition = version.condition
                initial["amount"] = version.amount
        form = SimulationForm(user=request.user, initial=initial)
    context.update(form=form, policy=policy, version=version_for(policy, this_month) if policy else None)
    context.update(builder_context(policy.district if policy else None, condition, condition_error))
    return render(request, "eligibility/runs/simulate.html", context, status=status)
