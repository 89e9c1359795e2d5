"""The service settings page: the district's circles, check-in geofence, travel speeds, delivery
checks and warning days, and which communities are rural."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render

from sanshe.accounts.http import AuthedRequest
from sanshe.accounts.models import Region, RegionLevel
from sanshe.catalog import access
from sanshe.catalog.actions import settings as actions
from sanshe.catalog.forms import SettingsForm
from sanshe.catalog.models import ServiceSettings
from sanshe.catalog.views.common import context_districts, page_district, run


def settings_page(request: AuthedRequest) -> HttpResponse:
    districts = access.readable_districts(request.user)
    if not districts.exists():
        raise PermissionDenied("您没有查看服务参数的权限")
    district = page_district(request, districts)
    may_manage = access.can_manage_catalog(request.user, district)
    found = ServiceSettings.for_district(district)
    initial = {k: str(v) for k, v in actions.settings_values(found).items()}
    form = SettingsForm(request.POST or None, initial=initial)
    communities = list(Region.objects.filter(code__startswith=district.prefix, level=RegionLevel.COMMUNITY)
                       .select_related("parent").order_by("code"))
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied(access.NOT_MANAGER)
        values = form.values()
        rural = request.POST.getlist("rural")

        def save() -> int:
            with transaction.atomic():  # both or neither
                actions.update_service_settings(district, values=values, acting_user=request.user, request=request)
                return len(actions.set_rural_communities(district, rural_codes=rural, acting_user=request.user,
                                                         request=request))

        changed = run(form, save)
        if changed is not None:
            messages.success(request, "服务参数已保存" + (f"，{changed} 个社区的城乡属性已更改" if changed else ""))
            return redirect(f"{request.path}?district={district.code}")
        rural_codes = set(rural)
    else:
        rural_codes = {r.code for r in communities if r.is_rural}
    if not may_manage:
        for field in form.fields.values():
            field.disabled = True
    context = {"form": form, "communities": communities, "rural_codes": rural_codes, "may_manage": may_manage,
               **context_districts(request, districts, district)}
    return render(request, "catalog/settings.html", context)
