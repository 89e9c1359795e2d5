"""Roster import pages (upload, validation progress, error report, confirmation) and the export
of a filtered list."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from sanshe.accounts.access import has_capability
from sanshe.accounts.http import AuthedRequest
from sanshe.accounts.models import Capability
from sanshe.core.downloads import XLSX, xlsx_response
from sanshe.core.errors import UserError
from sanshe.people import exporter, importer
from sanshe.people.access import access_import_job, visible_import_jobs
from sanshe.people.forms import PersonFilterForm
from sanshe.people.models import ImportStatus

ERRORS_SHOWN = 200
RUNNING = (ImportStatus.PENDING, ImportStatus.VALIDATING, ImportStatus.IMPORTING)


class UploadForm(forms.Form):
    file = forms.FileField(label="名单文件（.xlsx）", widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xls,.xlsm"}))


class ConfirmForm(forms.Form):
    valid_rows_only = forms.BooleanField(label="仅导入有效行，跳过有错误的行", required=False)


class FullExportForm(forms.Form):
    reason = forms.CharField(label="导出事由", max_length=300, min_length=2)


def _require(request: AuthedRequest, capability: Capability) -> None:
    if not has_capability(request.user, capability):
        raise PermissionDenied("您没有此项权限")


def import_list(request: AuthedRequest) -> HttpResponse:
    _require(request, Capability.IMPORT_PEOPLE)
    form = UploadForm()
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                job = importer.start_import(request.user, form.cleaned_data["file"])
            except UserError as exc:
                form.add_error("file", exc.message)
            else:
                return redirect("people:import_detail", job_id=job.pk)
    jobs = visible_import_jobs(request.user)[:20]
    required = "、".join(c.header for c in importer.COLUMNS if c.required)
    return render(request, "people/imports/list.html", {"form": form, "jobs": jobs, "required_columns": required})


def import_template(request: AuthedRequest) -> HttpResponse:
    _require(request, Capability.IMPORT_PEOPLE)
    return xlsx_response(importer.build_template(), "人员名单导入模板.xlsx")


def _detail_context(request: AuthedRequest, job_id: int) -> dict[str, object]:
    job = access_import_job(request.user, job_id)
    return {
        "job": job,
        "running": job.status in RUNNING,
        "errors": job.row_errors.all()[:ERRORS_SHOWN] if job.error_rows or job.status == ImportStatus.DONE else [],
        "errors_shown": ERRORS_SHOWN,
        "confirm_form": ConfirmForm(),
        "new_rows": max(0, job.valid_rows - job.updated_count),
    }


def import_detail(request: AuthedRequest, job_id: int) -> HttpResponse:
    _require(request, Capability.IMPORT_PEOPLE)
    return render(request, "people/imports/detail.html", _detail_context(request, job_id))


def import_progress(request: AuthedRequest, job_id: int) -> HttpResponse:
    """Polled by the detail page while a job runs; reloads the page once it has finished."""
    _require(request, Capability.IMPORT_PEOPLE)
    context = _detail_context(request, job_id)
    response = render(request, "people/imports/_progress.html", context)
    if not context["running"]:
        response["HX-Refresh"] = "true"
    return response


@require_POST
def import_confirm(request: AuthedRequest, job_id: int) -> HttpResponse:
    _require(request, Capability.IMPORT_PEOPLE)
    job = access_import_job(request.user, job_id)
    try:
        if request.POST.get("action") == "cancel":
            importer.cancel_import(request.user, job)
            messages.info(request, "已取消本次导入，未写入任何数据")
        else:
            form = ConfirmForm(request.POST)
            form.is_valid()
            importer.confirm_import(request.user, job,
                                    valid_rows_only=bool(form.cleaned_data.get("valid_rows_only")))
            messages.success(request, "已提交导入；导入在后台进行，可以离开本页，稍后回来查看结果")
    except UserError as exc:
        messages.error(request, exc.message)
    return redirect("people:import_detail", job_id=job.pk)


def import_errors(request: AuthedRequest, job_id: int) -> HttpResponse:
    _require(request, Capability.IMPORT_PEOPLE)
    job = access_import_job(request.user, job_id)
    return xlsx_response(importer.error_report(job), f"导入错误清单-{job.pk}.xlsx")


def export_people(request: AuthedRequest) -> HttpResponseBase:
    """GET: the filtered list, masked. POST with a reason: full names and ID numbers."""
    _require(request, Capability.EXPORT_PEOPLE)
    filter_form = PersonFilterForm(request.GET or None, user=request.user)
    full = request.method == "POST"
    reason = ""
    if full:
        form = FullExportForm(request.POST)
        if not form.is_valid():
            messages.error(request, "导出完整信息须填写事由（至少 2 个字）")
            return redirect(f"{reverse('people:list')}?{request.GET.urlencode()}")
        reason = form.cleaned_data["reason"]
    try:
        handle, _rows = exporter.export_people(request.user, filter_form.to_filter(), full=full, reason=reason,
                                               request=request)
    except UserError as exc:
        messages.error(request, exc.message)
        return redirect(f"{reverse('people:list')}?{request.GET.urlencode()}")
    name = "人员名单（完整信息）.xlsx" if full else "人员名单（脱敏）.xlsx"
    return FileResponse(handle, as_attachment=True, filename=name, content_type=XLSX)
