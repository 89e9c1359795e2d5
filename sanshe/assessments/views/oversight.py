"""Oversight pages for region staff: who is due for an assessment, the assessment rate per
region (with an .xlsx export), and the district's assessment parameters."""

from __future__ import annotations

import io
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from sanshe.accounts.access import access_region, capability_scope, has_capability
from sanshe.accounts.http import AuthedRequest
from sanshe.accounts.models import Capability, Region, RegionLevel
from sanshe.assessments import actions, queries
from sanshe.assessments.queries import (
    LEVELS,
    TARGET_MIN_AGE,
    TARGET_RATE_PERCENT,
    DueFilter,
    DueKind,
    RateTable,
    districts_in_scope,
    due_people,
    explain_due,
    scope_roots,
)
from sanshe.core.downloads import xlsx_response
from sanshe.core.errors import UserError
from sanshe.core.forms import PlatformForm
from sanshe.people.queries import bounded_count

PAGE_SIZE = 20
LEVEL_NAMES = ("能力完好", "轻度受损", "中度受损", "重度受损", "完全丧失")


def _require_view(request: AuthedRequest) -> None:
    if not has_capability(request.user, Capability.VIEW_ASSESSMENTS):
        raise PermissionDenied("您没有查看辖区评估的权限")


def _region_param(request: AuthedRequest) -> Region | None:
    raw = request.GET.get("region", "")
    if not raw:
        return None
    try:
        pk = int(raw)
    except ValueError:
        raise Http404("没有找到该区划") from None
    return access_region(request.user, pk, Capability.VIEW_ASSESSMENTS)


def _page(request: AuthedRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


# --- who is due --------------------------------------------------------------------------------


class RegionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{'　' if obj.level == RegionLevel.COMMUNITY else ''}{obj.name}"


class DueFilterForm(PlatformForm, forms.Form):
    region = RegionChoiceField(label="区划", queryset=Region.objects.none(), required=False, empty_label="全部辖区")
    include_open = forms.BooleanField(label="含评估进行中", required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scope = capability_scope(user, Capability.VIEW_ASSESSMENTS)
        field = cast(forms.ModelChoiceField, self.fields["region"])
        field.queryset = Region.objects.filter(
            scope.region_q(), level__in=(RegionLevel.STREET, RegionLevel.COMMUNITY)).order_by("code")


def due_list(request: AuthedRequest) -> HttpResponse:
    _require_view(request)
    today = timezone.localdate()
    kind = request.GET.get("kind") or DueKind.OVERDUE
    if kind not in DueKind.values:
        kind = DueKind.OVERDUE
    form = DueFilterForm(request.GET or None, user=request.user)
    region = form.cleaned_data.get("region") if form.is_valid() else None
    include_open = bool(form.is_valid() and form.cleaned_data.get("include_open"))
    counts = {}
    for k in DueKind:
        counts[k.value] = bounded_count(due_people(request.user, DueFilter(kind=k, region=region,
                                                                            include_open=include_open), today=today))
    page = _page(request)
    start = (page - 1) * PAGE_SIZE
    qs = due_people(request.user, DueFilter(kind=kind, region=region, include_open=include_open), today=today)
    # People never assessed have no record to join (and the anti-join stays an anti-join).
    related = ("residence_region__parent",) if kind == DueKind.NEVER else ("residence_region__parent", "capability")
    people = list(qs.select_related(*related)[start : start + PAGE_SIZE + 1])
    has_next = len(people) > PAGE_SIZE
    rows = explain_due(people[:PAGE_SIZE], kind, today=today)
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("kind", None)
    context = {
        "form": form, "kind": kind, "kinds": [(k.value, k.label, counts[k.value]) for k in DueKind],
        "rows": rows, "page": page, "has_next": has_next, "query": query.urlencode(), "today": today,
        "can_request": has_capability(request.user, Capability.REQUEST_ASSESSMENT),
        "target_min_age": TARGET_MIN_AGE, "level_names": LEVEL_NAMES,
    }
    template = "assessments/oversight/_due_results.html" if request.htmx else "assessments/oversight/due.html"
    return render(request, template, context)


# --- the assessment rate -----------------------------------------------------------------------


def assessment_rate(request: AuthedRequest) -> HttpResponse:
    _require_view(request)
    today = timezone.localdate()
    table = queries.assessment_rate(request.user, _region_param(request), today=today)
    if request.GET.get("format") == "xlsx":
        name = table.region.name if table.region else "辖区"
        return xlsx_response(rate_xlsx(table), f"评估率-{name}-{today:%Y%m%d}.xlsx")
    context = {
        "table": table, "levels": list(zip(LEVELS, LEVEL_NAMES, strict=True)), "target_rate": TARGET_RATE_PERCENT,
        "target_min_age": TARGET_MIN_AGE, "roots": scope_roots(request.user),
    }
    return render(request, "assessments/oversight/rate.html", context)


def rate_xlsx(table: RateTable) -> bytes:
    """The rate table as a workbook: one row per region, a total row, the date and definition."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None  # noqa: S101 - a new workbook always has a sheet
    ws.title = "评估率"
    title = f"{table.region.full_name() if table.region else '辖区'}老年人能力评估率（{table.today:%Y年%m月%d日}）"
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([f"目标人群：{TARGET_MIN_AGE}岁以上、低保、特困供养或独居的在册老年人；有效评估：评估有效期未届满"])
    header = ["区划", "区划代码", "目标人群（人）", "有效评估（人）", "未评估或已过期（人）", "评估率（%）",
              *[f"{n}级 {name}" for n, name in zip(LEVELS, LEVEL_NAMES, strict=True)]]
    ws.append(header)
    for cell in ws[3]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for row in [*table.rows, table.total]:
        rate = row.rate
        ws.append([row.label, row.region.code if row.region and row is not table.total else None, row.target, row.valid,
                   row.unassessed, float(rate) if rate is not None else None, *row.levels])
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for column, width in zip("ABCDEFGHIJK", (22, 15, 14, 14, 18, 12, 12, 12, 12, 12, 12), strict=True):
        ws.column_dimensions[column].width = width
    for cells in ws.iter_rows(min_row=4, min_col=6, max_col=6):
        cells[0].number_format = "0.0"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- the district's parameters -----------------------------------------------------------------


class SettingsForm(PlatformForm, forms.Form):
    # Ranges are checked by actions.update_settings, so every channel gives the same message.
    interval_months = forms.IntegerField(label="复评周期（月）", help_text="评估结果的有效期，到期前需要重新评估",
                                         error_messages={"required": "请填写复评周期", "invalid": "请填写整数"})
    objection_days = forms.IntegerField(label="异议期（天）", help_text="结果发布后，老年人或家属可提出异议的天数",
                                        error_messages={"required": "请填写异议期", "invalid": "请填写整数"})
    due_soon_days = forms.IntegerField(label="到期提醒提前（天）", help_text="有效期届满前多少天列入“即将到期”",
                                       error_messages={"required": "请填写到期提醒天数", "invalid": "请填写整数"})


def settings_page(request: AuthedRequest) -> HttpResponse:
    user = request.user
    can_view = has_capability(user, Capability.VIEW_ASSESSMENTS)
    districts = districts_in_scope(user, Capability.VIEW_ASSESSMENTS)
    configurable = {d.pk for d in districts_in_scope(user, Capability.CONFIGURE_ASSESSMENT)}
    districts += [d for d in districts_in_scope(user, Capability.CONFIGURE_ASSESSMENT) if d not in districts]
    if not (can_view or configurable) or not districts:
        raise PermissionDenied("您没有查看评估参数的权限")
    district = districts[0]
    raw = request.GET.get("district") or request.POST.get("district")
    if raw:
        chosen = next((d for d in districts if str(d.pk) == raw), None)
        if chosen is None:
            raise Http404("没有找到该区县")
        district = chosen
    may_edit = district.pk in configurable
    current = actions.settings_for(district)
    initial = {"interval_months": current.interval_months, "objection_days": current.objection_days,
               "due_soon_days": current.due_soon_days}
    form = SettingsForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied("您没有设置评估参数的权限")
        if form.is_valid():
            try:
                actions.update_settings(district, acting_user=user, **form.cleaned_data)
            except UserError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, f"{district.name}的评估参数已保存，新发布的评估按新参数计算")
                return redirect(f"{request.path}?district={district.pk}")
    if not may_edit:
        for field in form.fields.values():
            field.disabled = True
    context = {"form": form, "district": district, "districts": districts, "may_edit": may_edit,
               "settings": current, "is_default": current.pk is None}
    return render(request, "assessments/oversight/settings.html", context)
