"""Pages of the service list (服务清单): the items with today's prices, one item with its checklist
and price history, the forms to add and change an item, and stopping or resuming an item."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from sanshe.accounts.http import AuthedRequest
from sanshe.catalog import access
from sanshe.catalog.actions import items as actions
from sanshe.catalog.forms import ItemForm
from sanshe.catalog.models import ServiceCategory, ServiceItem
from sanshe.catalog.queries import price_on
from sanshe.catalog.views.common import context_districts, page_district, run
from sanshe.core.errors import UserError


def item_list(request: AuthedRequest) -> HttpResponse:
    districts = access.readable_districts(request.user)
    if not districts.exists():
        raise PermissionDenied("您没有查看服务目录的权限")
    district = page_district(request, districts)
    status = request.GET.get("status", "active")
    qs = ServiceItem.objects.filter(district=district)
    if status == "active":
        qs = qs.filter(is_active=True)
    elif status == "inactive":
        qs = qs.filter(is_active=False)
    category = request.GET.get("category", "")
    if category in ServiceCategory.values:
        qs = qs.filter(category=category)
    today = timezone.localdate()
    rows = [{"item": item, "price": price_on(item, today)} for item in qs]
    context = {"rows": rows, "status": status, "category": category, "categories": ServiceCategory.choices,
               "today": today, "may_manage": access.can_manage_catalog(request.user, district),
               **context_districts(request, districts, district)}
    return render(request, "catalog/items/list.html", context)


def item_create(request: AuthedRequest) -> HttpResponse:
    districts = access.managed_districts(request.user)
    if not districts.exists():
        raise PermissionDenied(access.NOT_MANAGER)
    district = page_district(request, districts)
    form = ItemForm(request.POST or None)
    if request.method == "POST":
        values = form.values()
        item = run(form, lambda: actions.create_item(district, code=values["code"], values=values,
                                                     acting_user=request.user, request=request))
        if item is not None:
            messages.success(request, f"已新建服务项目“{item.name}”。请在价格表中为它定价")
            return redirect("catalog:item_detail", item_id=item.pk)
    return render(request, "catalog/items/form.html", {"form": form, "item": None, "district": district})


def item_detail(request: AuthedRequest, item_id: int) -> HttpResponse:
    item = access.access_item(request.user, item_id)
    today = timezone.localdate()
    history = actions.price_history(item)
    now = price_on(item, today)
    rows = [{"price": p, "in_force": now is not None and p.pk == now.pk,
             "future": p.price_list.effective_from > today} for p in history]
    context = {"item": item, "history": rows, "now": now, "today": today,
               "may_manage": access.can_manage_catalog(request.user, item.district)}
    return render(request, "catalog/items/detail.html", context)


def item_edit(request: AuthedRequest, item_id: int) -> HttpResponse:
    item = access.access_item(request.user, item_id, for_write=True)
    initial: dict[str, Any] = {**actions.item_values(item), "tasks": "\n".join(item.tasks)}
    form = ItemForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST":
        values = form.values()
        saved = run(form, lambda: actions.update_item(item, values=values, acting_user=request.user,
                                                      request=request))
        if saved is not None:
            messages.success(request, "服务项目已保存")
            return redirect("catalog:item_detail", item_id=item.pk)
    return render(request, "catalog/items/form.html", {"form": form, "item": item, "district": item.district})


@require_POST
def item_active(request: AuthedRequest, item_id: int) -> HttpResponse:
    item = access.access_item(request.user, item_id, for_write=True)
    active = request.POST.get("active") == "1"
    try:
        actions.set_item_active(item, active, acting_user=request.user, request=request)
    except UserError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已{'启用' if active else '停用'}“{item.name}”"
                         + ("" if active else "；已下的工单不受影响，不能再新下此项目的工单"))
    return redirect("catalog:item_detail", item_id=item.pk)
