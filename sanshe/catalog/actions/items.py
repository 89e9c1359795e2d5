"""The district's service list (服务清单) and its price lists. Prices are versioned by effective
date: a new version starts as a copy of the prices in force on its date, and a version whose date
has arrived is never edited again, so what an order cost in June stays what it cost."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, cast

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from sanshe.accounts.models import Region
from sanshe.catalog.access import require_manage_catalog
from sanshe.catalog.checks import Checker
from sanshe.catalog.models import Price, PriceList, Qualification, ServiceCategory, ServiceItem, Unit
from sanshe.catalog.queries import price_on
from sanshe.core.audit import changed_fields, record_event
from sanshe.core.errors import UserError, ValidationFailed
from sanshe.core.models import AuditAction

CODE_PATTERN = re.compile(r"^[A-Z0-9_-]{1,32}$")
MINUTES = (1, 600)
PRICE_FIELDS = ("standard_price", "low_cost_copay", "paid_price")
PRICE_LABELS = {"standard_price": "标准价", "low_cost_copay": "低偿自付", "paid_price": "有偿价格"}


# --- service items ------------------------------------------------------------------------------------


def item_values(item: ServiceItem) -> dict[str, Any]:
    """An item's editable values, as the form and the API give them."""
    return {"name": item.name, "category": item.category, "unit": item.unit,
            "standard_minutes": item.standard_minutes, "required_qualification": item.required_qualification,
            "tasks": list(item.tasks), "description": item.description}


def _checked_item(values: Mapping[str, Any], checker: Checker | None = None) -> dict[str, Any]:
    c = checker or Checker(values)
    data = {
        "name": c.text("name", "名称", max_length=100),
        "category": c.choice("category", "类别", ServiceCategory),
        "unit": c.choice("unit", "计量单位", Unit),
        "standard_minutes": c.integer("standard_minutes", "标准时长", low=MINUTES[0], high=MINUTES[1], unit=" 分钟"),
        "required_qualification": c.choice("required_qualification", "所需资质", Qualification, required=False),
        "tasks": c.lines("tasks", "服务内容", max_items=30, max_length=100),
        "description": c.text("description", "说明", max_length=2000, required=False),
    }
    c.done()
    return data


@transaction.atomic
def create_item(district: Region, *, code: str, values: Mapping[str, Any], acting_user: Any,
                request: HttpRequest | None = None) -> ServiceItem:
    """Add an item to the district's service list; the code is unique in the district and never changes."""
    require_manage_catalog(acting_user, district)
    checker = Checker(values)
    code = str(code or "").strip().upper()
    if not code:
        checker.fail("code", "请填写编码")
    elif not CODE_PATTERN.match(code):
        checker.fail("code", "编码只能由英文字母、数字、下划线和短横线组成，最多 32 位，如 MEAL01")
    elif ServiceItem.objects.filter(district=district, code=code).exists():
        checker.fail("code", f"本区已有编码为“{code}”的服务项目")
    data = _checked_item(values, checker)
    try:
        with transaction.atomic():
            item = ServiceItem.objects.create(district=district, code=code, **data)
    except IntegrityError:
        raise ValidationFailed({"code": [f"本区已有编码为“{code}”的服务项目"]}) from None
    record_event(acting_user, AuditAction.MANAGE_CATALOG, request=request, subject=f"新建服务项目：{item.name}",
                 detail={"change": "create_item", "item": code, "district": district.code,
                         "values": item_values(item)})
    return item


@transaction.atomic
def update_item(item: ServiceItem, *, values: Mapping[str, Any], acting_user: Any,
                request: HttpRequest | None = None) -> ServiceItem:
    """Change an item's name, category, unit, duration, qualification, checklist or description."""
    require_manage_catalog(acting_user, item.district)
    locked = ServiceItem.objects.select_for_update(of=("self",)).select_related("district").get(pk=item.pk)
    data = _checked_item(values)
    before = item_values(locked)
    for name, value in data.items():
        setattr(locked, name, value)
    after = item_values(locked)
    changed = changed_fields(before, after)
    if changed:
        locked.save(update_fields=list(data))
        record_event(acting_user, AuditAction.MANAGE_CATALOG, request=request, subject=f"修改服务项目：{locked.name}",
                     detail={"change": "update_item", "item": locked.code, "changed": changed})
    return locked


@transaction.atomic
def set_item_active(item: ServiceItem, active: bool, *, acting_user: Any,
                    request: HttpRequest | None = None) -> ServiceItem:
    """Stop (or resume) offering an item; a stopped item takes no new orders, its history stays."""
    require_manage_catalog(acting_user, item.district)
    locked = ServiceItem.objects.select_for_update().get(pk=item.pk)
    if locked.is_active == active:
        raise UserError(f"服务项目“{locked.name}”已{'在用' if active else '停用'}", field="is_active")
    locked.is_active = active
    locked.save(update_fields=["is_active"])
    record_event(acting_user, AuditAction.MANAGE_CATALOG, request=request,
                 subject=f"{'启用' if active else '停用'}服务项目：{locked.name}",
                 detail={"change": "set_item_active", "item": locked.code, "active": active})
    return locked


# --- price lists --------------------------------------------------------------------------------------


def is_editable(price_list: PriceList, today: dt.date | None = None) -> bool:
    """Only a list whose date is still ahead may change: past and present prices are settled."""
    return price_list.effective_from > (today or timezone.localdate())


def _checked_price(item: ServiceItem, values: Mapping[str, Any], checker: Checker) -> dict[str, Decimal] | None:
    """One item's three prices, or None when all three are blank (the item keeps its earlier price)."""
    if all(values.get(f) is None or str(values.get(f)).strip() == "" for f in PRICE_FIELDS):
        return None
    sub = Checker(values)
    amounts = {f: sub.money(f, f"“{item.name}”的{PRICE_LABELS[f]}") for f in PRICE_FIELDS}
    standard, copay = amounts["standard_price"], amounts["low_cost_copay"]
    if standard is not None and copay is not None and copay > standard:
        sub.fail("low_cost_copay", f"“{item.name}”的低偿自付（{copay} 元）不能高于标准价（{standard} 元）")
    for field, messages in sub.errors.items():
        for message in messages:
            checker.fail(f"prices.{item.pk}.{field}", message)
    if sub.errors:
        return None
    return {f: v for f, v in amounts.items() if v is not None}


def _checked_prices(district: Region, prices: Mapping[Any, Mapping[str, Any]],
                    checker: Checker) -> dict[ServiceItem, dict[str, Decimal] | None]:
    items = {str(i.pk): i for i in ServiceItem.objects.filter(district=district)}
    result: dict[ServiceItem, dict[str, Decimal] | None] = {}
    for raw_id, values in prices.items():
        item = items.get(str(raw_id))
        if item is None:
            checker.fail(f"prices.{raw_id}", f"本区没有编号为 {raw_id} 的服务项目")
            continue
        result[item] = _checked_price(item, values, checker)
    return result


def _price_row(price: Price | None) -> dict[str, str] | None:
    return None if price is None else {f: str(getattr(price, f)) for f in PRICE_FIELDS}


@transaction.atomic
def create_price_list(district: Region, *, name: str, effective_from: Any, legal_basis: str = "",
                      prices: Mapping[Any, Mapping[str, Any]] | None = None, acting_user: Any,
                      request: HttpRequest | None = None, today: dt.date | None = None) -> PriceList:
    """A new version of the district's prices from a later date: it starts as a copy of the prices in
    force on that date, with the given prices replacing them."""
    require_manage_catalog(acting_user, district)
    today = today or timezone.localdate()
    values = {"name": name, "legal_basis": legal_basis, "effective_from": effective_from}
    c = Checker(values)
    name = c.text("name", "名称", max_length=100)
    legal_basis = c.text("legal_basis", "依据（文号）", max_length=200, required=False)
    starts = c.date("effective_from", "生效日期")
    has_lists = PriceList.objects.filter(district=district).exists()
    if starts is not None:
        # The first list may start on any date (nothing was priced before it); later versions only
        # from a future date, so a price already charged is never changed behind anyone's back.
        if has_lists and starts <= today:
            c.fail("effective_from", f"生效日期须晚于今天（{today}）：已经开始的价格不能更改，请新建以后生效的价格表")
        elif PriceList.objects.filter(district=district, effective_from=starts).exists():
            c.fail("effective_from", f"{starts} 已有生效的价格表，同一天只能有一个价格表")
    given = _checked_prices(district, prices or {}, c)
    c.done()
    starts = cast(dt.date, starts)  # checked above
    try:
        with transaction.atomic():
            price_list = PriceList.objects.create(district=district, name=name, legal_basis=legal_basis,
                                                  effective_from=starts, created_by=acting_user)
    except IntegrityError:
        raise ValidationFailed({"effective_from": [f"{starts} 已有生效的价格表，同一天只能有一个价格表"]}) from None
    rows: dict[int, Price] = {}
    for item in ServiceItem.objects.filter(district=district, is_active=True):
        before = price_on(item, starts)
        if before is not None:
            rows[item.pk] = Price(price_list=price_list, item=item, **{f: getattr(before, f) for f in PRICE_FIELDS})
    for item, amounts in given.items():
        if amounts is None:
            rows.pop(item.pk, None)
        else:
            rows[item.pk] = Price(price_list=price_list, item=item, **amounts)
    Price.objects.bulk_create(rows.values())
    record_event(acting_user, AuditAction.MANAGE_CATALOG, request=request,
                 subject=f"新建价格表：{price_list.name}（{starts} 起）", row_count=len(rows),
                 detail={"change": "create_price_list", "district": district.code, "effective_from": str(starts),
                         "prices": {str(p.item.code): _price_row(p) for p in rows.values()}})
    return price_list


@transaction.atomic
def update_price_list(price_list: PriceList, *, prices: Mapping[Any, Mapping[str, Any]],
                      name: str | None = None, legal_basis: str | None = None, acting_user: Any,
                      request: HttpRequest | None = None, today: dt.date | None = None) -> PriceList:
    """Change a future list's prices (all three blank removes the item from the list)."""
    require_manage_catalog(acting_user, price_list.district)
    locked = PriceList.objects.select_for_update(of=("self",)).select_related("district").get(pk=price_list.pk)
    today = today or timezone.localdate()
    if not is_editable(locked, today):
        raise UserError(f"“{locked.name}”已于 {locked.effective_from} 生效，不能再修改；如需调整价格，"
                        "请新建一个以后生效的价格表", field="effective_from")
    c = Checker({"name": locked.name if name is None else name,
                 "legal_basis": locked.legal_basis if legal_basis is None else legal_basis})
    new_name = c.text("name", "名称", max_length=100)
    new_basis = c.text("legal_basis", "依据（文号）", max_length=200, required=False)
    given = _checked_prices(locked.district, prices, c)
    c.done()
    existing = {p.item_id: p for p in locked.prices.select_related("item")}
    changed: dict[str, Any] = {}
    for item, amounts in given.items():
        current = existing.get(item.pk)
        if amounts is None:
            if current is not None:
                current.delete()
                changed[item.code] = [_price_row(current), None]
            continue
        if current is None:
            created = Price.objects.create(price_list=locked, item=item, **amounts)
            changed[item.code] = [None, _price_row(created)]
        elif any(getattr(current, f) != amounts[f] for f in PRICE_FIELDS):
            before = _price_row(current)
            for f in PRICE_FIELDS:
                setattr(current, f, amounts[f])
            current.save(update_fields=list(PRICE_FIELDS))
            changed[item.code] = [before, _price_row(current)]
    if (new_name, new_basis) != (locked.name, locked.legal_basis):
        changed["name"] = [[locked.name, locked.legal_basis], [new_name, new_basis]]
        locked.name, locked.legal_basis = new_name, new_basis
        locked.save(update_fields=["name", "legal_basis"])
    if changed:
        record_event(acting_user, AuditAction.MANAGE_CATALOG, request=request,
                     subject=f"修改价格表：{locked.name}（{locked.effective_from} 起）", row_count=len(changed),
                     detail={"change": "update_price_list", "price_list": locked.pk, "changed": changed})
    return locked


def price_history(item: ServiceItem) -> list[Price]:
    """Every version of an item's price, newest first."""
    return list(Price.objects.filter(item=item).select_related("price_list").order_by("-price_list__effective_from"))
