"""A district's service parameters (circles, check-in geofence, travel estimates, delivery checks,
warning days) and which of its communities are rural (they get the wider service circle)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from sanshe.accounts.models import Region, RegionLevel
from sanshe.catalog.access import require_manage_catalog
from sanshe.catalog.checks import Checker
from sanshe.catalog.models import ServiceSettings
from sanshe.core.audit import changed_fields, record_event
from sanshe.core.models import AuditAction

D = Decimal
# field: (label, low, high, unit); integers unless the bounds are Decimals (one or two places).
SETTING_RANGES: dict[str, tuple[str, Any, Any, str]] = {
    "town_circle_minutes": ("城镇服务圈", 5, 60, " 分钟"),
    "country_circle_minutes": ("农村服务圈", 5, 120, " 分钟"),
    "geofence_metres": ("签到范围", 20, 2000, " 米"),
    "detour_factor": ("绕行系数", D("1.00"), D("3.00"), ""),
    "walk_kmh": ("步行速度", D("2.0"), D("8.0"), " 公里/小时"),
    "bicycle_kmh": ("自行车速度", D("5.0"), D("30.0"), " 公里/小时"),
    "ebike_kmh": ("电动自行车速度", D("8.0"), D("40.0"), " 公里/小时"),
    "car_kmh": ("汽车速度", D("10.0"), D("80.0"), " 公里/小时"),
    "late_after_minutes": ("迟到判定", 5, 240, " 分钟"),
    "short_visit_percent": ("时长不足判定", 10, 100, "%"),
    "expiry_warning_days": ("证照到期提前提醒", 1, 365, " 天"),
}


def settings_values(found: ServiceSettings) -> dict[str, Any]:
    return {name: getattr(found, name) for name in SETTING_RANGES}


@transaction.atomic
def update_service_settings(district: Region, *, values: Mapping[str, Any], acting_user: Any,
                            request: HttpRequest | None = None) -> ServiceSettings:
    """Change the district's service parameters; each must lie in its range (fields not given keep theirs)."""
    require_manage_catalog(acting_user, district)
    found = ServiceSettings.for_district(district)
    locked = ServiceSettings.objects.select_for_update().get(pk=found.pk)
    merged = {**{k: str(v) for k, v in settings_values(locked).items()},
              **{k: v for k, v in values.items() if k in SETTING_RANGES}}
    c = Checker(merged)
    data: dict[str, Any] = {}
    for name, (label, low, high, unit) in SETTING_RANGES.items():
        if isinstance(low, Decimal):
            places = 2 if name == "detour_factor" else 1
            data[name] = c.decimal(name, label, low=low, high=high, places=places, unit=unit)
        else:
            data[name] = c.integer(name, label, low=low, high=high, unit=unit)
    town, country = data["town_circle_minutes"], data["country_circle_minutes"]
    if town is not None and country is not None and country < town:
        c.fail("country_circle_minutes", "农村服务圈不能小于城镇服务圈")
    c.done()
    before = {k: str(v) for k, v in settings_values(locked).items()}
    for name, value in data.items():
        setattr(locked, name, value)
    after = {k: str(v) for k, v in settings_values(locked).items()}
    changed = changed_fields(before, after)
    if changed:
        locked.save(update_fields=list(data))
        record_event(acting_user, AuditAction.MANAGE_CATALOG, request=request, subject=f"修改服务参数：{district.name}",
                     detail={"change": "update_service_settings", "district": district.code, "changed": changed})
    return locked


@transaction.atomic
def set_rural_communities(district: Region, *, rural_codes: list[str], acting_user: Any,
                          request: HttpRequest | None = None) -> list[Region]:
    """Mark exactly the given communities of the district as rural (the others as urban)."""
    require_manage_catalog(acting_user, district)
    communities = list(Region.objects.select_for_update().filter(code__startswith=district.prefix,
                                                                 level=RegionLevel.COMMUNITY))
    known = {r.code for r in communities}
    wanted = {str(code).strip() for code in rural_codes if str(code).strip()}
    unknown = sorted(wanted - known)
    if unknown:
        c = Checker({})
        c.fail("rural", f"区划代码 {'、'.join(unknown)} 不是{district.name}的社区（村）")
        c.done()
    changed = [r for r in communities if r.is_rural != (r.code in wanted)]
    for region in changed:
        region.is_rural = region.code in wanted
        region.save(update_fields=["is_rural"])
    if changed:
        record_event(acting_user, AuditAction.MANAGE_CATALOG, request=request, subject=f"设置农村社区：{district.name}",
                     row_count=len(changed),
                     detail={"change": "set_rural", "district": district.code,
                             "changed": {r.code: r.is_rural for r in changed}})
    return changed
