"""Service records for reviewers (community, street, district, provider): the list with a flags
filter, the .xlsx export, a record's page with its photos and the review decision. Every view of
a record and every export is audited."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from sanshe.accounts.http import AuthedRequest
from sanshe.core.audit import record_event
from sanshe.core.downloads import private_file_response, xlsx_response
from sanshe.core.errors import UserError
from sanshe.core.models import AuditAction
from sanshe.orders import delivery
from sanshe.orders.flags import flag_labels
from sanshe.orders.models import Flag, OrderEvent, ReviewStatus
from sanshe.orders.record_access import access_record, can_review, visible_records
from sanshe.orders.record_export import RecordFilter, records_xlsx, with_related

PAGE_SIZE = 50


def _filter(request: AuthedRequest) -> tuple[RecordFilter, str]:
    try:
        return RecordFilter.parse(request.GET), ""
    except UserError as exc:
        return RecordFilter(), exc.message


def record_list(request: AuthedRequest) -> HttpResponse:
    chosen, error = _filter(request)
    records = with_related(chosen.apply(visible_records(request.user)))
    page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"r": r, "flags": flag_labels(r.flags)} for r in page.object_list]
    record_event(request.user, AuditAction.VIEW_SERVICE, request=request, subject="服务记录列表",
                 row_count=len(rows), detail={"filter": chosen.query()})
    pending = visible_records(request.user).filter(review_status=ReviewStatus.PENDING).count()
    return render(request, "delivery/records.html", {
        "page": page, "rows": rows, "f": chosen, "error": error, "flags": Flag.choices, "pending": pending,
        "reviews": [c for c in ReviewStatus.choices if c[0]], "query": chosen.query(),
    })


def export_records(request: AuthedRequest) -> HttpResponse:
    chosen, error = _filter(request)
    if error:
        messages.error(request, error)
        return redirect("delivery:records")
    records = with_related(chosen.apply(visible_records(request.user)))[: settings.EXPORT_MAX_ROWS]
    content, count = records_xlsx(records)
    record_event(request.user, AuditAction.EXPORT_SERVICES, request=request, subject="导出服务记录", row_count=count,
                 detail={"filter": chosen.query()})
    return xlsx_response(content, "服务记录.xlsx")


def record_detail(request: AuthedRequest, record_id: int) -> HttpResponse:
    record = access_record(request.user, record_id)
    record_event(request.user, AuditAction.VIEW_SERVICE, request=request, person_id=record.person_id,
                 subject=f"服务记录 {record.pk}")
    order = record.order
    return render(request, "delivery/record.html", {
        "record": record, "order": order, "flags": flag_labels(record.flags), "photos": list(record.photos.all()),
        "events": list(OrderEvent.objects.filter(order=order).select_related("caregiver").order_by("at", "id")),
        "codes": list(record.codes.order_by("-created_at")), "complaints": list(order.complaints.all()),
        "may_review": record.review_status == ReviewStatus.PENDING and record.check_out_at is not None
        and can_review(request.user, record),
    })


@require_POST
def review(request: AuthedRequest, record_id: int) -> HttpResponse:
    record = access_record(request.user, record_id)
    if not can_review(request.user, record):
        raise Http404("没有找到该服务记录")
    decision = request.POST.get("decision", "")
    if decision not in ("clear", "reject"):
        messages.error(request, "请选择核查结论")
        return redirect("delivery:record", record_id=record.pk)
    try:
        delivery.review_record(record, acting_user=request.user, clear=decision == "clear",
                               note=request.POST.get("note", ""))
    except UserError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "核查通过，工单已确认" if decision == "clear" else "核查不通过，工单转为有争议")
    return redirect("delivery:record", record_id=record.pk)


def record_photo(request: AuthedRequest, record_id: int, photo_id: int) -> FileResponse:
    record = access_record(request.user, record_id)
    photo = record.photos.filter(pk=photo_id).first()
    if photo is None:
        raise Http404("没有找到该照片")
    record_event(request.user, AuditAction.VIEW_SERVICE, request=request, person_id=record.person_id,
                 subject=f"服务记录 {record.pk} 照片")
    return private_file_response(photo.file, content_type=photo.content_type, filename=f"服务照片-{photo.pk}")
