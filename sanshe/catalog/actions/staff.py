"""A provider's caregivers: where they start from and how they travel (for dispatch), when they
work, their insurance, their qualifications with certificate numbers and expiry (an expired one
stops assignment of the items that need it), and the account they sign in with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest

from sanshe.accounts.models import Membership, Organization, Role, User
from sanshe.catalog.access import NOT_STAFF_MANAGER, can_manage_staff
from sanshe.catalog.actions import audit_catalog
from sanshe.catalog.checks import Checker
from sanshe.catalog.models import Caregiver, CaregiverQualification, Facility, Qualification, TravelMode
from sanshe.core.audit import changed_fields
from sanshe.core.errors import UserError
from sanshe.lib.phone import PhoneError, normalize_phone

WEEKDAYS = {1: "周一", 2: "周二", 3: "周三", 4: "周四", 5: "周五", 6: "周六", 7: "周日"}



def _require_staff(acting_user: Any, provider: Organization) -> None:
    if not can_manage_staff(acting_user, provider):
        raise PermissionDenied(NOT_STAFF_MANAGER)


def caregiver_values(caregiver: Caregiver) -> dict[str, Any]:
    """A caregiver's editable values, as the form and the API give them."""
    return {
        "name": caregiver.name, "phone": caregiver.phone, "station_id": caregiver.station_id,
        "home_address": caregiver.home_address, "home_latitude": str(caregiver.home_latitude),
        "home_longitude": str(caregiver.home_longitude), "travel_mode": caregiver.travel_mode,
        "work_days": list(caregiver.work_days), "shift_start": caregiver.shift_start.strftime("%H:%M"),
        "shift_end": caregiver.shift_end.strftime("%H:%M"), "break_minutes": caregiver.break_minutes,
        "insurance_policy_no": caregiver.insurance_policy_no,
        "insurance_expires_on": str(caregiver.insurance_expires_on) if caregiver.insurance_expires_on else None,
        "username": caregiver.user.username if caregiver.user_id and caregiver.user else "",
    }


def _work_days(raw: Any, c: Checker) -> list[int]:
    items = raw.replace("，", ",").split(",") if isinstance(raw, str) else raw if isinstance(raw, list) else []
    days: set[int] = set()
    for x in items:
        try:
            day = int(str(x).strip())
        except ValueError:
            c.fail("work_days", "工作日应为 1–7（1 为周一）")
            return []
        if day not in WEEKDAYS:
            c.fail("work_days", "工作日应为 1–7（1 为周一）")
            return []
        days.add(day)
    if not days:
        c.fail("work_days", "请选择工作日")
    return sorted(days)


def _linked_user(provider: Organization, username: str, own: Caregiver | None, c: Checker) -> User | None:
    if not username:
        return None
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        c.fail("username", f"没有用户名为“{username}”的有效账号")
        return None
    if not Membership.objects.filter(user=user, organization=provider, role=Role.CAREGIVER, is_active=True).exists():
        c.fail("username", f"账号“{username}”不是{provider.name}的护理员，请先在账号管理中为其添加护理员身份")
        return None
    taken = Caregiver.objects.filter(user=user)
    if own is not None:
        taken = taken.exclude(pk=own.pk)
    other = taken.first()
    if other is not None:
        c.fail("username", f"账号“{username}”已关联护理员{other.name}")
        return None
    return user


def _checked_caregiver(provider: Organization, values: Mapping[str, Any], own: Caregiver | None) -> dict[str, Any]:
    c = Checker(values)
    data: dict[str, Any] = {"name": c.text("name", "姓名", max_length=50)}
    phone = c.text("phone", "手机号", max_length=20)
    try:
        data["phone"] = normalize_phone(phone) if phone else ""
    except PhoneError as exc:
        c.fail("phone", str(exc))
    station_id = values.get("station_id")
    data["station"] = None
    if station_id not in (None, ""):
        station = Facility.objects.filter(pk=_int(station_id), provider=provider).first()
        if station is None:
            c.fail("station_id", f"所属服务站应为{provider.name}的服务设施")
        elif not station.is_active and (own is None or own.station_id != station.pk):
            c.fail("station_id", f"“{station.name}”已停用")
        data["station"] = station
    data["home_address"] = c.text("home_address", "出发地址", max_length=200, required=False)
    data["home_latitude"], data["home_longitude"] = c.coordinates("home_latitude", "home_longitude")
    data["travel_mode"] = c.choice("travel_mode", "出行方式", TravelMode)
    data["work_days"] = _work_days(values.get("work_days"), c)
    data["shift_start"], data["shift_end"] = c.time("shift_start", "上班时间"), c.time("shift_end", "下班时间")
    data["break_minutes"] = c.integer("break_minutes", "午休", low=0, high=240, unit=" 分钟")
    start, end, rest = data["shift_start"], data["shift_end"], data["break_minutes"]
    if start is not None and end is not None:
        length = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
        if length <= 0:
            c.fail("shift_end", "下班时间应晚于上班时间")
        elif rest is not None and rest >= length:
            c.fail("break_minutes", "午休不能长于整个班次")
    data["insurance_policy_no"] = c.text("insurance_policy_no", "保单号", max_length=60, required=False)
    data["insurance_expires_on"] = c.date("insurance_expires_on", "保险有效期至", required=False)
    if data["insurance_expires_on"] and not data["insurance_policy_no"]:
        c.fail("insurance_policy_no", "填写了保险有效期，请同时填写保单号")
    data["user"] = _linked_user(provider, str(values.get("username") or "").strip(), own, c)
    c.done()
    return data


def _int(raw: Any) -> int:
    """An id as submitted; 0 (never a row) when it is not a number."""
    try:
        return int(raw)
    except (TypeError, ValueError):
        return 0


@transaction.atomic
def save_caregiver(provider: Organization, *, values: Mapping[str, Any], caregiver: Caregiver | None = None,
                   acting_user: Any, request: HttpRequest | None = None) -> Caregiver:
    """Record a caregiver of the provider, or change one."""
    _require_staff(acting_user, provider)
    if caregiver is not None and caregiver.provider_id != provider.pk:
        raise UserError("护理员不属于该服务机构")
    data = _checked_caregiver(provider, values, caregiver)
    if caregiver is None:
        caregiver = Caregiver.objects.create(provider=provider, **data)
        audit_catalog(acting_user, request, f"新建护理员：{caregiver.name}（{provider.name}）",
               {"change": "create_caregiver", "caregiver": caregiver.pk, "values": caregiver_values(caregiver)})
        return caregiver
    locked = Caregiver.objects.select_for_update(of=("self",)).select_related("user").get(pk=caregiver.pk)
    before = caregiver_values(locked)
    for name, value in data.items():
        setattr(locked, name, value)
    locked.save(update_fields=list(data))
    after = caregiver_values(locked)
    changed = changed_fields(before, after)
    if changed:
        audit_catalog(acting_user, request, f"修改护理员：{locked.name}（{provider.name}）",
               {"change": "update_caregiver", "caregiver": locked.pk, "changed": changed})
    return locked


@transaction.atomic
def set_caregiver_active(caregiver: Caregiver, active: bool, *, acting_user: Any,
                         request: HttpRequest | None = None) -> Caregiver:
    """Record that a caregiver has left (or returned); one who has left is never assigned."""
    _require_staff(acting_user, caregiver.provider)
    locked = Caregiver.objects.select_for_update().get(pk=caregiver.pk)
    if locked.is_active == active:
        raise UserError(f"{locked.name}已{'在职' if active else '离职'}", field="is_active")
    locked.is_active = active
    locked.save(update_fields=["is_active"])
    audit_catalog(acting_user, request, f"{'复职' if active else '离职'}：护理员{locked.name}",
           {"change": "set_caregiver_active", "caregiver": locked.pk, "active": active})
    return locked


# --- qualifications -----------------------------------------------------------------------------------


@transaction.atomic
def save_qualification(caregiver: Caregiver, *, values: Mapping[str, Any],
                       qualification: CaregiverQualification | None = None, acting_user: Any,
                       request: HttpRequest | None = None) -> CaregiverQualification:
    """Record a caregiver's qualification (one of each kind) with its certificate and expiry, or renew one."""
    _require_staff(acting_user, caregiver.provider)
    c = Checker(values)
    kind = qualification.qualification if qualification is not None else c.choice("qualification", "资质", Qualification)
    issued, expires = c.date("issued_on", "发证日期", required=False), c.date("expires_on", "有效期至", required=False)
    if issued and expires and expires < issued:
        c.fail("expires_on", "有效期至不能早于发证日期")
    data = {"certificate_no": c.text("certificate_no", "证书编号", max_length=60), "issued_on": issued,
            "expires_on": expires}
    if qualification is None and kind and CaregiverQualification.objects.filter(
            caregiver=caregiver, qualification=kind).exists():
        c.fail("qualification", f"{caregiver.name}已登记“{Qualification(kind).label}”，请修改原记录")
    c.done()
    if qualification is None:
        qualification = CaregiverQualification.objects.create(caregiver=caregiver, qualification=kind, **data)
        change = "create_qualification"
    else:
        for name, value in data.items():
            setattr(qualification, name, value)
        qualification.save(update_fields=list(data))
        change = "update_qualification"
    audit_catalog(acting_user, request, f"{'登记' if change == 'create_qualification' else '修改'}资质：护理员{caregiver.name}"
           f"“{Qualification(kind).label}”",
           {"change": change, "caregiver": caregiver.pk, "qualification": kind,
            "values": {k: str(v) if v is not None else None for k, v in data.items()}})
    return qualification


@transaction.atomic
def delete_qualification(qualification: CaregiverQualification, *, acting_user: Any,
                         request: HttpRequest | None = None) -> None:
    """Remove a qualification entered by mistake or revoked."""
    caregiver = qualification.caregiver
    _require_staff(acting_user, caregiver.provider)
    audit_catalog(acting_user, request, f"删除资质：护理员{caregiver.name}“{qualification.get_qualification_display()}”",
           {"change": "delete_qualification", "caregiver": caregiver.pk, "qualification": qualification.qualification,
            "certificate_no": qualification.certificate_no})
    qualification.delete()
