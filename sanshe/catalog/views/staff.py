"""Caregiver pages: one caregiver with qualifications and expiry, the forms to add and change a
caregiver and a qualification, leaving and returning."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from sanshe.accounts.http import AuthedRequest
from sanshe.accounts.models import Organization
from sanshe.catalog import access
from sanshe.catalog.actions import staff as actions
from sanshe.catalog.actions.providers import district_of
from sanshe.catalog.forms import CaregiverForm, QualificationForm
from sanshe.catalog.models import Caregiver, ServiceSettings
from sanshe.catalog.views.common import run
from sanshe.core.errors import UserError


def _stations(provider: Organization, caregiver: Caregiver | None) -> list[tuple[str, str]]:
    rows = provider.facilities.order_by("name")
    return [(str(f.pk), f.name + ("" if f.is_active else "（已停用）")) for f in rows
            if f.is_active or (caregiver is not None and caregiver.station_id == f.pk)]


def caregiver_form(request: AuthedRequest, provider_id: int | None = None,
                   caregiver_id: int | None = None) -> HttpResponse:
    caregiver = access.access_caregiver(request.user, caregiver_id, for_write=True) if caregiver_id else None
    provider = caregiver.provider if caregiver is not None else access.access_provider(request.user, provider_id,
                                                                                        for_staff=True)
    if caregiver is not None:
        initial: dict[str, Any] = {**actions.caregiver_values(caregiver),
                                   "work_days": [str(d) for d in caregiver.work_days],
                                   "station_id": str(caregiver.station_id or "")}
    else:
        initial = {"travel_mode": "ebike", "work_days": ["1", "2", "3", "4", "5"], "shift_start": "08:00",
                   "shift_end": "17:00", "break_minutes": "60"}
    form = CaregiverForm(request.POST or None, initial=initial, stations=_stations(provider, caregiver))
    if request.method == "POST":
        values = form.values()
        saved = run(form, lambda: actions.save_caregiver(provider, values=values, caregiver=caregiver,
                                                         acting_user=request.user, request=request))
        if saved is not None:
            messages.success(request, f"护理员{saved.name}已保存" + ("" if caregiver else "。请登记其资质证书"))
            return redirect("catalog:caregiver_detail", caregiver_id=saved.pk)
    context = {"form": form, "provider": provider, "caregiver": caregiver}
    return render(request, "catalog/caregivers/form.html", context)


def caregiver_detail(request: AuthedRequest, caregiver_id: int) -> HttpResponse:
    caregiver = access.access_caregiver(request.user, caregiver_id)
    today = timezone.localdate()
    days = ServiceSettings.for_district(district_of(caregiver.provider)).expiry_warning_days
    rows = []
    for q in caregiver.qualifications.order_by("qualification"):
        left = (q.expires_on - today).days if q.expires_on else None
        rows.append({"q": q, "left": left, "expired": left is not None and left < 0,
                     "soon": left is not None and 0 <= left <= days})
    insurance_left = (caregiver.insurance_expires_on - today).days if caregiver.insurance_expires_on else None
    form = QualificationForm()
    context = {"caregiver": caregiver, "rows": rows, "form": form, "today": today,
               "insurance_left": insurance_left, "days": days,
               "may_manage": access.can_manage_staff(request.user, caregiver.provider),
               "weekdays": [actions.WEEKDAYS[d] for d in caregiver.work_days if d in actions.WEEKDAYS]}
    return render(request, "catalog/caregivers/detail.html", context)


@require_POST
def caregiver_active(request: AuthedRequest, caregiver_id: int) -> HttpResponse:
    caregiver = access.access_caregiver(request.user, caregiver_id, for_write=True)
    active = request.POST.get("active") == "1"
    try:
        actions.set_caregiver_active(caregiver, active, acting_user=request.user, request=request)
    except UserError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已登记{caregiver.name}{'复职' if active else '离职'}"
                         + ("" if active else "；此后不再向其派单"))
    return redirect("catalog:caregiver_detail", caregiver_id=caregiver.pk)


def qualification_form(request: AuthedRequest, caregiver_id: int | None = None,
                       qualification_id: int | None = None) -> HttpResponse:
    found = access.access_qualification(request.user, qualification_id, for_write=True) if qualification_id else None
    caregiver = found.caregiver if found is not None else access.access_caregiver(request.user, caregiver_id,
                                                                                   for_write=True)
    initial = ({"certificate_no": found.certificate_no, "issued_on": found.issued_on,
                "expires_on": found.expires_on} if found is not None else {})
    form = QualificationForm(request.POST or None, initial=initial, editing=found is not None)
    if request.method == "POST":
        values = form.values()
        saved = run(form, lambda: actions.save_qualification(caregiver, values=values, qualification=found,
                                                             acting_user=request.user, request=request))
        if saved is not None:
            messages.success(request, f"已保存“{saved.get_qualification_display()}”")
            return redirect("catalog:caregiver_detail", caregiver_id=caregiver.pk)
    title = (f"修改资质：{caregiver.name}“{found.get_qualification_display()}”" if found is not None
             else f"登记资质：{caregiver.name}")
    context = {"form": form, "title": title, "back_caregiver": caregiver, "submit": "保存",
               "intro": "资质过期后，需要该资质的服务项目不能再派给这位护理员。"}
    return render(request, "catalog/form.html", context)


@require_POST
def qualification_delete(request: AuthedRequest, qualification_id: int) -> HttpResponse:
    found = access.access_qualification(request.user, qualification_id, for_write=True)
    caregiver_id = found.caregiver_id
    actions.delete_qualification(found, acting_user=request.user, request=request)
    messages.success(request, "资质已删除")
    return redirect("catalog:caregiver_detail", caregiver_id=caregiver_id)
