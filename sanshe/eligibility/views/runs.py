"""The monthly run as pages: start a run (a background job, polled while it runs), the list of
runs, a run's difference from the previous month, the entitlement list and the ended list (masked,
audited, exportable), and the simulation of a policy change. Who sees what is in eligibility.access,
the lists themselves in eligibility.lists (shared with the API, eligibility.api.runs)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from sanshe.accounts.access import capability_scope, has_capability
from sanshe.accounts.http import AuthedRequest
from sanshe.accounts.models import Capability, Region, RegionLevel
from sanshe.core.downloads import xlsx_response
from sanshe.core.errors import UserError
from sanshe.core.forms import PlatformForm
from sanshe.eligibility import actions, authoring
from sanshe.eligibility.access import (
    access_run,
    can_manage,
    can_read_policies,
    covers_district,
    managed_districts,
    visible_runs,
)
from sanshe.eligibility.lists import (
    RowFilter,
    end_reasons,
    ended_rows,
    entitlement_rows,
    export_rows,
    page_number,
    previous_run,
    record_list_view,
    row_out,
    run_simulation,
    simulation_rows,
    version_for,
)
from sanshe.eligibility.models import (
    ChangeFromPrevious,
    EntitlementRun,
    EntitlementStatus,
    Policy,
    PolicyStatus,
    RunStatus,
)
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


def _require_read(request: AuthedRequest) -> None:
    if not can_read_policies(request.user):
        raise PermissionDenied("您没有查看待遇的权限")


def run_list(request: AuthedRequest) -> HttpResponse:
    _require_read(request)
    page = page_number(request)
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
    page = page_number(request)
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
    if policy is not None:
        context.update(authoring.builder_context(policy.district, condition, error=condition_error))
    return render(request, "eligibility/runs/simulate.html", context, status=status)
