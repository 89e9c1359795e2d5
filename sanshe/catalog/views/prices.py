"""Price pages: the prices in force on a chosen date with the list of versions, a new version (a
grid prefilled with the prices in force on its date), and one version — editable only while its
date is still ahead."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone

from sanshe.accounts.http import AuthedRequest
from sanshe.accounts.models import Region
from sanshe.catalog import access
from sanshe.catalog.actions import items as actions
from sanshe.catalog.forms import PriceListForm, attach_errors
from sanshe.catalog.models import Price, PriceList, ServiceItem
from sanshe.catalog.queries import price_on
from sanshe.catalog.views.common import context_districts, page_district
from sanshe.core.errors import UserError, ValidationFailed


def _first_of_next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def prices_page(request: AuthedRequest) -> HttpResponse:
    districts = access.readable_districts(request.user)
    if not districts.exists():
        raise PermissionDenied("您没有查看服务目录的权限")
    district = page_district(request, districts)
    today = timezone.localdate()
    raw = request.GET.get("on", "")
    try:
        on = dt.date.fromisoformat(raw) if raw else today
    except ValueError:
        messages.error(request, f"日期“{raw}”应按 年-月-日 填写，如 2026-07-01；下面显示今天的价格")
        on = today
    rows = []
    for item in ServiceItem.objects.filter(district=district, is_active=True):
        rows.append({"item": item, "price": price_on(item, on)})
    lists = list(PriceList.objects.filter(district=district).select_related("created_by")
                 .annotate(item_count=Count("prices")).order_by("-effective_from"))
    in_force = next((p for p in lists if p.effective_from <= on), None)
    context = {"rows": rows, "on": on, "today": today, "lists": lists, "in_force": in_force,
               "may_manage": access.can_manage_catalog(request.user, district),
               **context_districts(request, districts, district)}
    return render(request, "catalog/prices/overview.html", context)


def _grid(district: Region, base: Mapping[int, Price | None], posted: QueryDict | None,
          errors: Mapping[str, list[str]] | None = None) -> list[dict[str, Any]]:
    """One row per active item: the values shown (posted, else the base price) and the row's errors."""
    rows = []
    for item in ServiceItem.objects.filter(district=district, is_active=True):
        price = base.get(item.pk)
        values = {}
        for f in actions.PRICE_FIELDS:
            if posted is not None:
                values[f] = posted.get(f"price-{item.pk}-{f}", "")
            else:
                values[f] = str(getattr(price, f)) if price is not None else ""
        rows.append({"item": item, "values": values, "errors": (errors or {}).get(str(item.pk), [])})
    return rows


def _posted_prices(district: Region, posted: QueryDict) -> dict[Any, dict[str, str]]:
    return {item_id: {f: posted.get(f"price-{item_id}-{f}", "") for f in actions.PRICE_FIELDS}
            for item_id in ServiceItem.objects.filter(district=district, is_active=True).values_list("pk", flat=True)}


def _split(exc: ValidationFailed, form: PriceListForm) -> dict[str, list[str]]:
    """Grid errors by item id; the others go on the form."""
    grid: dict[str, list[str]] = {}
    rest: dict[str, list[str]] = {}
    for field, msgs in exc.errors.items():
        parts = field.split(".")
        if parts[0] == "prices" and len(parts) > 1:
            grid.setdefault(parts[1], []).extend(msgs)
        else:
            rest[field] = msgs
    if rest:
        attach_errors(form, ValidationFailed(rest))
    if grid and not rest:
        form.add_error(None, "请修改下面标红的价格后再提交。")
    return grid


def price_list_create(request: AuthedRequest) -> HttpResponse:
    districts = access.managed_districts(request.user)
    if not districts.exists():
        raise PermissionDenied(access.NOT_MANAGER)
    district = page_district(request, districts)
    today = timezone.localdate()
    starts = _first_of_next_month(today)
    base = {item.pk: price_on(item, starts) for item in ServiceItem.objects.filter(district=district, is_active=True)}
    form = PriceListForm(request.POST or None, initial={"effective_from": starts})
    grid_errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = form.values()
        try:
            created = actions.create_price_list(
                district, name=values["name"], legal_basis=values["legal_basis"],
                effective_from=values["effective_from"], prices=_posted_prices(district, request.POST),
                acting_user=request.user, request=request)
        except ValidationFailed as exc:
            grid_errors = _split(exc, form)
        except UserError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"已新建价格表，自 {created.effective_from} 起生效；生效前仍可修改")
            return redirect("catalog:price_list", price_list_id=created.pk)
    grid = _grid(district, base, request.POST if request.method == "POST" else None, grid_errors)
    context = {"form": form, "grid": grid, "district": district, "price_list": None, "editable": True,
               "has_lists": PriceList.objects.filter(district=district).exists()}
    return render(request, "catalog/prices/form.html", context)


def price_list_detail(request: AuthedRequest, price_list_id: int) -> HttpResponse:
    price_list = access.access_price_list(request.user, price_list_id)
    district = price_list.district
    editable = actions.is_editable(price_list) and access.can_manage_catalog(request.user, district)
    form = PriceListForm(request.POST or None, initial={"name": price_list.name,
                                                      "legal_basis": price_list.legal_basis,
                                                      "effective_from": price_list.effective_from})
    form.fields["effective_from"].disabled = True
    form.fields["effective_from"].help_text = "生效日期不能修改；如需改期，请新建价格表"
    grid_errors: dict[str, list[str]] = {}
    if request.method == "POST":
        price_list = access.access_price_list(request.user, price_list_id, for_write=True)
        values = form.values()
        try:
            actions.update_price_list(price_list, prices=_posted_prices(district, request.POST), name=values["name"],
                                      legal_basis=values["legal_basis"], acting_user=request.user, request=request)
        except ValidationFailed as exc:
            grid_errors = _split(exc, form)
        except UserError as exc:
            messages.error(request, exc.message)
            return redirect("catalog:price_list", price_list_id=price_list.pk)
        else:
            messages.success(request, "价格表已保存")
            return redirect("catalog:price_list", price_list_id=price_list.pk)
    base: dict[int, Price | None] = {p.item_id: p for p in price_list.prices.all()}
    grid = _grid(district, base, request.POST if request.method == "POST" else None, grid_errors)
    listed = list(price_list.prices.select_related("item").order_by("item__category", "item__code"))
    context = {"form": form, "grid": grid, "district": district, "price_list": price_list, "editable": editable,
               "listed": listed, "today": timezone.localdate(), "has_lists": True}
    return render(request, "catalog/prices/form.html", context)
