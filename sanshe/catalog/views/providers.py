"""Provider pages: the providers a user sees, one provider (licences, stations and canteens,
caregivers, contracts, and its count of expiring documents), the forms for licences and
facilities, and the expiry warnings page (到期提醒)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from sanshe.accounts.access import has_capability
from sanshe.accounts.http import AuthedRequest
from sanshe.accounts.models import Capability, Organization, Region, RegionLevel
from sanshe.catalog import access
from sanshe.catalog.actions import providers as actions
from sanshe.catalog.forms import FacilityForm, LicenceForm
from sanshe.catalog.models import Facility, ServiceSettings
from sanshe.catalog.queries import expiring
from sanshe.catalog.views.common import context_districts, page_district, run
from sanshe.core.errors import UserError


def _require_read(request: AuthedRequest) -> None:
    if not access.can_read_providers(request.user):
        raise PermissionDenied("您没有查看服务机构的权限")


def provider_list(request: AuthedRequest) -> HttpResponse:
    _require_read(request)
    providers = list(access.visible_providers(request.user).select_related("region").annotate(
        facility_count=Count("facilities", distinct=True),
        caregiver_count=Count("caregivers", filter=Q(caregivers__is_active=True), distinct=True),
    ).order_by("region__code", "name"))
    if len(providers) == 1 and not has_capability(request.user, Capability.MANAGE_CATALOG):
        return redirect("catalog:provider_detail", provider_id=providers[0].pk)
    today = timezone.localdate()
    counts: dict[int, int] = {}
    for district in access.provider_districts(request.user):
        for row in expiring(district, today, provider_ids=access.warning_providers(request.user, district)):
            counts[row.provider_id] = counts.get(row.provider_id, 0) + 1
    rows = [{"p": p, "expiring": counts.get(p.pk, 0)} for p in providers]
    return render(request, "catalog/providers/list.html", {"rows": rows})


def provider_detail(request: AuthedRequest, provider_id: int) -> HttpResponse:
    provider = access.access_provider(request.user, provider_id)
    district = actions.district_of(provider)
    today = timezone.localdate()
    warnings = expiring(district, today, provider_ids={provider.pk})
    contracts = (access.visible_contracts(request.user).filter(provider=provider).select_related("fund")
                 .order_by("-starts_on"))
    context = {
        "provider": provider, "district": district, "today": today, "warnings": warnings,
        "licences": provider.licences.all(),
        "facilities": provider.facilities.select_related("region").order_by("-is_active", "name"),
        "caregivers": provider.caregivers.select_related("station").prefetch_related("qualifications")
        .order_by("-is_active", "name"),
        "contracts": contracts,
        "may_manage": access.can_manage_provider(request.user, provider),
        "may_manage_staff": access.can_manage_staff(request.user, provider),
        "warning_days": ServiceSettings.for_district(district).expiry_warning_days,
    }
    return render(request, "catalog/providers/detail.html", context)


# --- licences -----------------------------------------------------------------------------------------


def licence_form(request: AuthedRequest, provider_id: int | None = None, licence_id: int | None = None) -> HttpResponse:
    licence = access.access_licence(request.user, licence_id, for_write=True) if licence_id is not None else None
    provider = licence.provider if licence is not None else access.access_provider(request.user, provider_id,
                                                                                    for_write=True)
    initial = ({"kind": licence.kind, "number": licence.number, "issued_on": licence.issued_on,
                "expires_on": licence.expires_on} if licence is not None else {})
    form = LicenceForm(request.POST or None, initial=initial)
    if request.method == "POST":
        values = form.values()
        saved = run(form, lambda: actions.save_licence(provider, values=values, licence=licence,
                                                       acting_user=request.user, request=request))
        if saved is not None:
            messages.success(request, "证照已保存")
            return redirect("catalog:provider_detail", provider_id=provider.pk)
    context = {"form": form, "title": f"{'修改' if licence else '登记'}证照：{provider.name}",
               "back": provider, "submit": "保存"}
    return render(request, "catalog/form.html", context)


@require_POST
def licence_delete(request: AuthedRequest, licence_id: int) -> HttpResponse:
    licence = access.access_licence(request.user, licence_id, for_write=True)
    provider_id = licence.provider_id
    actions.delete_licence(licence, acting_user=request.user, request=request)
    messages.success(request, "证照已删除")
    return redirect("catalog:provider_detail", provider_id=provider_id)


# --- facilities ---------------------------------------------------------------------------------------


def _communities(provider: Organization) -> list[tuple[str, str]]:
    prefix = access.district_code_of(provider.region)[:6]
    rows = Region.objects.filter(code__startswith=prefix, level=RegionLevel.COMMUNITY).select_related("parent")
    return [(r.code, f"{r.parent.name if r.parent else ''} {r.name}".strip()) for r in rows.order_by("code")]


def facility_form(request: AuthedRequest, provider_id: int | None = None,
                  facility_id: int | None = None) -> HttpResponse:
    facility = access.access_facility(request.user, facility_id, for_write=True) if facility_id is not None else None
    provider = facility.provider if facility is not None else access.access_provider(request.user, provider_id,
                                                                                      for_staff=True)
    initial = actions.facility_values(facility) if facility is not None else {}
    form = FacilityForm(request.POST or None, initial=initial, communities=_communities(provider))
    if request.method == "POST":
        values = form.values()
        saved = run(form, lambda: actions.save_facility(provider, values=values, facility=facility,
                                                        acting_user=request.user, request=request))
        if saved is not None:
            messages.success(request, f"“{saved.name}”已保存")
            return redirect("catalog:provider_detail", provider_id=provider.pk)
    context: dict[str, Any] = {
        "form": form, "title": f"{'修改' if facility else '新建'}服务设施：{provider.name}", "back": provider,
        "submit": "保存", "intro": "服务站是15分钟服务圈的圆心：请按地图取点填写坐标（WGS-84），用于派单和签到核查。"}
    return render(request, "catalog/form.html", context)


@require_POST
def facility_active(request: AuthedRequest, facility_id: int) -> HttpResponse:
    facility: Facility = access.access_facility(request.user, facility_id, for_write=True)
    active = request.POST.get("active") == "1"
    try:
        actions.set_facility_active(facility, active, acting_user=request.user, request=request)
    except UserError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已{'启用' if active else '停用'}“{facility.name}”")
    return redirect("catalog:provider_detail", provider_id=facility.provider_id)


# --- expiry warnings ----------------------------------------------------------------------------------


def expiring_page(request: AuthedRequest) -> HttpResponse:
    _require_read(request)
    districts = access.provider_districts(request.user)
    district = page_district(request, districts)
    today = timezone.localdate()
    days = ServiceSettings.for_district(district).expiry_warning_days
    rows = expiring(district, today, provider_ids=access.warning_providers(request.user, district))
    context = {"rows": rows, "today": today, "days": days,
               "expired_count": sum(1 for r in rows if r.expired),
               "may_settings": access.can_manage_catalog(request.user, district),
               **context_districts(request, districts, district)}
    return render(request, "catalog/expiring.html", context)
