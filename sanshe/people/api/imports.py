"""API: roster import jobs (upload, validation result, confirm, cancel, error report), the
import template and list export. Same rules and audit as the web pages (people.importer,
people.exporter)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse
from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile

from sanshe.accounts.api import require
from sanshe.accounts.models import Capability
from sanshe.core.downloads import XLSX, xlsx_response
from sanshe.people import exporter, importer
from sanshe.people.access import access_import_job, visible_import_jobs
from sanshe.people.api.files import PersonFilterQuery, filter_from_query
from sanshe.people.models import ImportJob

router = Router(tags=["名单导入与导出"])
ERRORS_RETURNED = 200


class RowErrorOut(Schema):
    row_number: int
    column: str
    value: str
    message: str


class ImportJobOut(Schema):
    id: int
    file_name: str
    status: str
    status_label: str
    total_rows: int
    processed_rows: int
    progress_percent: int
    valid_rows: int
    error_rows: int
    created_count: int
    updated_count: int
    valid_rows_only: bool
    message: str
    created_at: dt.datetime
    finished_at: dt.datetime | None
    errors: list[RowErrorOut] = []


class ConfirmIn(Schema):
    valid_rows_only: bool = False


def _out(job: ImportJob, *, with_errors: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": job.pk, "file_name": job.original_name, "status": job.status, "status_label": job.get_status_display(),
        "total_rows": job.total_rows, "processed_rows": job.processed_rows, "progress_percent": job.progress_percent,
        "valid_rows": job.valid_rows, "error_rows": job.error_rows, "created_count": job.created_count,
        "updated_count": job.updated_count, "valid_rows_only": job.valid_rows_only, "message": job.message,
        "created_at": job.created_at, "finished_at": job.finished_at, "errors": [],
    }
    if with_errors:
        data["errors"] = list(job.row_errors.values("row_number", "column", "value", "message")[:ERRORS_RETURNED])
    return data


@router.get("/people/imports/template.xlsx", summary="下载名单导入模板（.xlsx）")
def template(request: HttpRequest) -> HttpResponse:
    require(request, Capability.IMPORT_PEOPLE)
    return xlsx_response(importer.build_template(), "人员名单导入模板.xlsx")


@router.post("/people/imports", response={201: ImportJobOut}, summary="上传名单并开始后台校验（不写入档案）")
def upload(request: HttpRequest, file: File[UploadedFile]) -> Status:
    job = importer.start_import(request.user, file)
    return Status(201, _out(job, with_errors=True))


@router.get("/people/imports", response=list[ImportJobOut], summary="我的名单导入记录（最近 50 条）")
def list_jobs(request: HttpRequest) -> list[dict[str, Any]]:
    require(request, Capability.IMPORT_PEOPLE)
    return [_out(job) for job in visible_import_jobs(request.user)[:50]]


@router.get("/people/imports/{job_id}", response=ImportJobOut, summary="导入进度、校验结果和前 200 条错误")
def get_job(request: HttpRequest, job_id: int) -> dict[str, Any]:
    require(request, Capability.IMPORT_PEOPLE)
    return _out(access_import_job(request.user, job_id), with_errors=True)


@router.post("/people/imports/{job_id}/confirm", response=ImportJobOut,
             summary="确认导入；文件有错误时须 valid_rows_only=true 才导入有效行")
def confirm(request: HttpRequest, job_id: int, payload: ConfirmIn) -> dict[str, Any]:
    require(request, Capability.IMPORT_PEOPLE)
    job = access_import_job(request.user, job_id)
    return _out(importer.confirm_import(request.user, job, valid_rows_only=payload.valid_rows_only))


@router.post("/people/imports/{job_id}/cancel", response=ImportJobOut, summary="放弃尚未导入的名单")
def cancel(request: HttpRequest, job_id: int) -> dict[str, Any]:
    require(request, Capability.IMPORT_PEOPLE)
    job = access_import_job(request.user, job_id)
    return _out(importer.cancel_import(request.user, job))


@router.get("/people/imports/{job_id}/errors.xlsx", summary="下载逐行错误清单（.xlsx）")
def errors(request: HttpRequest, job_id: int) -> HttpResponse:
    require(request, Capability.IMPORT_PEOPLE)
    job = access_import_job(request.user, job_id)
    return xlsx_response(importer.error_report(job), f"导入错误清单-{job.pk}.xlsx")


class FullExportIn(Schema):
    reason: str


@router.get("/people/export.xlsx", summary="按筛选条件导出名单（脱敏，.xlsx，记入审计日志）")
def export_masked(request: HttpRequest, filters: Query[PersonFilterQuery]) -> FileResponse:
    require(request, Capability.EXPORT_PEOPLE)
    handle, _rows = exporter.export_people(request.user, filter_from_query(request, filters), request=request)
    return FileResponse(handle, as_attachment=True, filename="人员名单（脱敏）.xlsx", content_type=XLSX)


@router.post("/people/export.xlsx",
             summary="导出完整信息（含完整姓名、身份证号和电话；须有查看身份证号权限并填写事由，有人数上限）")
def export_full(request: HttpRequest, filters: Query[PersonFilterQuery], payload: FullExportIn) -> FileResponse:
    require(request, Capability.EXPORT_PEOPLE)
    handle, _rows = exporter.export_people(request.user, filter_from_query(request, filters), full=True,
                                           reason=payload.reason, request=request)
    return FileResponse(handle, as_attachment=True, filename="人员名单（完整信息）.xlsx", content_type=XLSX)
