"""The caregiver's phone pages: today's orders with the elder's minimum data, then one order's
visit — accept or decline, set out, check in with the phone's position, the checklist, notes and
photos, check out, confirmation by signature or texted code, rating and complaint."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from sanshe.accounts.http import AuthedRequest
from sanshe.catalog.access import caregiver_of
from sanshe.catalog.models import Caregiver
from sanshe.core.audit import record_event
from sanshe.core.errors import UserError
from sanshe.core.models import AuditAction
from sanshe.orders import delivery
from sanshe.orders.flags import flag_labels
from sanshe.orders.models import OrderStatus, ServiceOrder, ServiceRecord
from sanshe.orders.record_access import access_caregiver_order, caregiver_orders

S = OrderStatus


def _caregiver(request: AuthedRequest) -> Caregiver:
    caregiver = caregiver_of(request.user)
    if caregiver is None:
        raise Http404("您不是在职护理员")
    return caregiver


def _record(order: ServiceOrder) -> ServiceRecord | None:
    return ServiceRecord.objects.filter(order=order).first()


def today(request: AuthedRequest) -> HttpResponse:
    """Today's orders of the signed-in caregiver, by window start."""
    caregiver = _caregiver(request)
    day = timezone.localdate()
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    orders = list(caregiver_orders(request.user).filter(window_start__gte=start,
                                                        window_start__lt=start + dt.timedelta(days=1))
                  .exclude(status=S.CANCELLED).select_related("person", "item").order_by("window_start", "id"))
    for order in orders:
        record_event(request.user, AuditAction.VIEW_SERVICE, request=request, person_id=order.person_id,
                     subject=f"护理员今日工单 {order.pk}")
    rows = [{"order": o, "elder": delivery.elder_card(o)} for o in orders]
    done = sum(1 for o in orders if o.status in (S.DONE, S.CONFIRMED))
    return render(request, "delivery/today.html", {"caregiver": caregiver, "rows": rows, "day": day, "done": done})


def visit(request: AuthedRequest, order_id: int) -> HttpResponse:
    """One order on the caregiver's phone, with the step it is at."""
    caregiver = _caregiver(request)
    order = access_caregiver_order(request.user, order_id)
    record = _record(order)
    record_event(request.user, AuditAction.VIEW_SERVICE, request=request, person_id=order.person_id,
                 subject=f"护理员查看工单 {order.pk}")
    contacts = delivery.confirming_contacts(record) if record else []
    code = record.codes.filter(used_at=None).order_by("-created_at").first() if record else None
    return render(request, "delivery/visit.html", {
        "caregiver": caregiver, "order": order, "record": record, "elder": delivery.elder_card(order),
        "tasks": list(order.item.tasks or []), "contacts": contacts,
        "code": code if code and code.expires_at > timezone.now() else None,
        "photos": list(record.photos.all()) if record else [], "stars": range(1, 6),
        "flag_labels": flag_labels(record.flags) if record else [],
        "confirmable": record is not None and record.check_out_at is not None and record.confirmed_at is None
        and order.status == S.DONE and not record.confirmed_by_name,
    })


def _back(order: ServiceOrder, anchor: str = "") -> HttpResponse:
    return redirect(reverse("delivery:visit", args=[order.pk]) + anchor)


def _step(request: AuthedRequest, order_id: int, run: Any, done: str, *, to_list: bool = False) -> HttpResponse:
    caregiver = _caregiver(request)
    order = access_caregiver_order(request.user, order_id)
    try:
        result = run(order, caregiver)
    except UserError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, result if isinstance(result, str) else done)
    return redirect("delivery:today") if to_list else _back(order)


@require_POST
def accept(request: AuthedRequest, order_id: int) -> HttpResponse:
    return _step(request, order_id, lambda o, c: delivery.accept_order(o, caregiver=c, acting_user=request.user),
                 "已接单")


@require_POST
def decline(request: AuthedRequest, order_id: int) -> HttpResponse:
    return _step(request, order_id, lambda o, c: delivery.decline_order(
        o, caregiver=c, acting_user=request.user, reason=request.POST.get("reason", "")), "已拒单，工单退回调度",
        to_list=True)


@require_POST
def set_out(request: AuthedRequest, order_id: int) -> HttpResponse:
    return _step(request, order_id, lambda o, c: delivery.set_out(o, caregiver=c, acting_user=request.user),
                 "已出发，到达后请签到")


@require_POST
def check_in(request: AuthedRequest, order_id: int) -> HttpResponse:
    def run(order: ServiceOrder, caregiver: Caregiver) -> str:
        record = delivery.check_in(order, caregiver=caregiver, acting_user=request.user,
                                   latitude=request.POST.get("latitude"), longitude=request.POST.get("longitude"))
        if "no_gps" in record.flags:
            return "已签到，但未取得定位，该记录将提交核查"
        if "outside_geofence" in record.flags:
            return f"已签到，但签到位置距服务地址约 {record.check_in_distance_m} 米，超出范围，该记录将提交核查"
        return f"已签到（距服务地址约 {record.check_in_distance_m} 米）"
    return _step(request, order_id, run, "已签到")


@require_POST
def save_visit(request: AuthedRequest, order_id: int) -> HttpResponse:
    """The checklist and notes; "签退" in the same form saves them and checks out."""
    caregiver = _caregiver(request)
    order = access_caregiver_order(request.user, order_id)
    record = _record(order)
    if record is None:
        messages.error(request, "请先签到")
        return _back(order)
    try:
        delivery.save_visit(record, caregiver=caregiver, acting_user=request.user,
                            tasks_done=request.POST.getlist("tasks"), notes=request.POST.get("notes", ""))
        if request.POST.get("step") == "check_out":
            delivery.check_out(record, caregiver=caregiver, acting_user=request.user,
                               latitude=request.POST.get("latitude"), longitude=request.POST.get("longitude"))
            messages.success(request, f"已签退，服务 {record.minutes} 分钟。请老人或家属确认")
            return _back(order, "#confirm")
    except UserError as exc:
        messages.error(request, exc.message)
        return _back(order, "#checklist")
    messages.success(request, "服务内容已保存")
    return _back(order, "#checklist")


@require_POST
def photo(request: AuthedRequest, order_id: int) -> HttpResponse:
    caregiver = _caregiver(request)
    order = access_caregiver_order(request.user, order_id)
    record = _record(order)
    upload = request.FILES.get("photo")
    if record is None or upload is None:
        messages.error(request, "请先签到，再选择照片" if record is None else "请选择照片")
        return _back(order, "#photos")
    try:
        delivery.add_photo(record, caregiver=caregiver, acting_user=request.user, upload=upload)
    except UserError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "照片已上传")
    return _back(order, "#photos")


def _confirm(request: AuthedRequest, order_id: int, run: Any) -> HttpResponse:
    caregiver = _caregiver(request)
    order = access_caregiver_order(request.user, order_id)
    record = _record(order)
    if record is None:
        messages.error(request, "请先签到")
        return _back(order)
    try:
        outcome = run(record, caregiver)
    except UserError as exc:
        messages.error(request, exc.message)
        return _back(order, "#confirm")
    if isinstance(outcome, delivery.Outcome):
        (messages.success if outcome.confirmed else messages.warning)(request, outcome.message)
    else:
        messages.success(request, outcome)
    return _back(order, "#confirm")


@require_POST
def sign(request: AuthedRequest, order_id: int) -> HttpResponse:
    post = request.POST
    return _confirm(request, order_id, lambda r, c: delivery.confirm_by_signature(
        r, caregiver=c, acting_user=request.user, signer_name=post.get("signer_name", ""),
        image=post.get("image", ""), rating=post.get("rating"), comment=post.get("comment", "")))


@require_POST
def send_code(request: AuthedRequest, order_id: int) -> HttpResponse:
    def run(record: ServiceRecord, caregiver: Caregiver) -> str:
        sent = delivery.send_confirmation_code(record, caregiver=caregiver, acting_user=request.user,
                                               contact_id=request.POST.get("contact"))
        return f"确认码已发送至 {sent.phone_masked}，10 分钟内有效"
    return _confirm(request, order_id, run)


@require_POST
def enter_code(request: AuthedRequest, order_id: int) -> HttpResponse:
    post = request.POST
    return _confirm(request, order_id, lambda r, c: delivery.confirm_by_code(
        r, caregiver=c, acting_user=request.user, code=post.get("code", ""), rating=post.get("rating"),
        comment=post.get("comment", "")))


@require_POST
def rate(request: AuthedRequest, order_id: int) -> HttpResponse:
    post = request.POST

    def run(record: ServiceRecord, caregiver: Caregiver) -> str:
        delivery.rate_record(record, acting_user=request.user, rating=post.get("rating"),
                             comment=post.get("comment", ""))
        return "评价已保存"
    return _confirm(request, order_id, run)


@require_POST
def complain(request: AuthedRequest, order_id: int) -> HttpResponse:
    _caregiver(request)
    order = access_caregiver_order(request.user, order_id)
    try:
        delivery.lodge_complaint(order, acting_user=request.user, lodged_by_name=request.POST.get("lodged_by_name", ""),
                                 text=request.POST.get("text", ""))
    except UserError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "投诉已登记，服务机构和社区将跟进处理")
    return _back(order, "#complaint")
