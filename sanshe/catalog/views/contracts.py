"""Contract pages: the purchase contracts a user sees, one contract, the form to draft or change a
draft (provider, fund, period, area, items with contract prices), and putting a contract in force or
terminating it with a reason."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from sanshe.accounts.http import AuthedRequest
from sanshe.accounts.models import Organization, OrganizationKind, Region, RegionLevel
from sanshe.catalog import access
from sanshe.catalog.actions import providers as actions
from sanshe.catalog.forms import DATE, DECIMAL, ActionForm, set_choices
from sanshe.catalog.models import Contract, ContractStatus, ServiceItem
from sanshe.catalog.views.common import page_district, run
from sanshe.core.errors import UserError
from sanshe.eligibility.models import Fund

STATUS_BADGES = {ContractStatus.DRAFT: "badge-amber", ContractStatus.ACTIVE: "badge-green",
                 ContractStatus.TERMINATED: ""}


class ContractForm(ActionForm):
    provider_id = forms.ChoiceField(label="服务机构")
    number = forms.CharField(label="合同编号", help_text="如：QX-2026-001；区内唯一")
    title = forms.CharField(label="项目名称", help_text="如：2026年溪口街道居家养老上门服务")
    fund_id = forms.ChoiceField(label="资金来源")
    starts_on = forms.DateField(label="开始日期", widget=DATE)
    ends_on = forms.DateField(label="结束日期", widget=DATE)
    amount_cap = forms.CharField(label="合同金额上限（元）", required=False, widget=DECIMAL, help_text="不设上限的留空")
    service_area = forms.MultipleChoiceField(label="服务区域", widget=forms.CheckboxSelectMultiple,
                                             help_text="选择街道即包括其下全部社区")

    def __init__(self, *args: Any, district: Region, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        providers = Organization.objects.filter(kind=OrganizationKind.PROVIDER, is_active=True,
                                                region__code__startswith=district.prefix).order_by("name")
        set_choices(self, "provider_id", [("", "请选择"), *[(str(p.pk), p.name) for p in providers]])
        funds = Fund.objects.filter(district=district).order_by("code")
        set_choices(self, "fund_id", [("", "请选择"), *[(str(f.pk), f.name) for f in funds]])
        regions = Region.objects.filter(code__startswith=district.prefix,
                                        level__in=(RegionLevel.STREET, RegionLevel.COMMUNITY)).order_by("code")
        set_choices(self, "service_area", [
            (r.code, r.name if r.level == RegionLevel.STREET else f"　{r.name}") for r in regions])


def _item_rows(district: Region, contract: Contract | None, posted: QueryDict | None) -> list[dict[str, Any]]:
    existing = {ci.item_id: ci for ci in contract.items.all()} if contract is not None else {}
    rows = []
    for item in ServiceItem.objects.filter(district=district, is_active=True):
        if posted is not None:
            chosen = posted.get(f"item-{item.pk}") == "on"
            price, cap = posted.get(f"item-{item.pk}-price", ""), posted.get(f"item-{item.pk}-cap", "")
        else:
            line = existing.get(item.pk)
            chosen = line is not None
            price = str(line.price) if line else ""
            cap = str(line.quantity_cap) if line and line.quantity_cap else ""
        rows.append({"item": item, "chosen": chosen, "price": price, "cap": cap})
    return rows


def _area_groups(district: Region) -> list[dict[str, Any]]:
    """The district's streets, each with its communities, for the area checkboxes."""
    regions = Region.objects.filter(code__startswith=district.prefix,
                                    level__in=(RegionLevel.STREET, RegionLevel.COMMUNITY)).order_by("code")
    groups: list[dict[str, Any]] = []
    for r in regions:
        if r.level == RegionLevel.STREET:
            groups.append({"street": r, "communities": []})
        elif groups and r.parent_id == groups[-1]["street"].pk:
            groups[-1]["communities"].append(r)
    return groups


def _values(form: ContractForm, rows: list[dict[str, Any]]) -> dict[str, Any]:
    values = form.values()
    values["items"] = [{"item_id": r["item"].pk, "price": r["price"], "quantity_cap": r["cap"]}
                       for r in rows if r["chosen"]]
    return values


def contract_list(request: AuthedRequest) -> HttpResponse:
    if not access.can_read_providers(request.user):
        raise PermissionDenied("您没有查看购买服务合同的权限")
    status = request.GET.get("status", "")
    qs = access.visible_contracts(request.user).select_related("provider", "fund", "district").order_by(
        "-starts_on", "number")
    if status in ContractStatus.values:
        qs = qs.filter(status=status)
    rows = [{"c": c, "badge": STATUS_BADGES[ContractStatus(c.status)]} for c in qs]
    context = {"rows": rows, "status": status, "statuses": ContractStatus.choices,
               "may_create": access.managed_districts(request.user).exists()}
    return render(request, "catalog/contracts/list.html", context)


def _form_page(request: AuthedRequest, district: Region, contract: Contract | None) -> HttpResponse:
    initial: dict[str, Any] = {}
    if contract is not None:
        initial = {"provider_id": str(contract.provider_id), "number": contract.number, "title": contract.title,
                   "fund_id": str(contract.fund_id), "starts_on": contract.starts_on, "ends_on": contract.ends_on,
                   "amount_cap": contract.amount_cap if contract.amount_cap is not None else "",
                   "service_area": [r.code for r in contract.service_area.all()]}
    elif request.GET.get("provider"):
        initial["provider_id"] = request.GET["provider"]
    form = ContractForm(request.POST or None, initial=initial, district=district)
    posted = request.POST if request.method == "POST" else None
    rows = _item_rows(district, contract, posted)
    if request.method == "POST":
        values = _values(form, rows)

        def save() -> Contract:
            if contract is None:
                return actions.create_contract(district, values=values, acting_user=request.user, request=request)
            return actions.update_contract(contract, values=values, acting_user=request.user, request=request)

        saved = run(form, save)
        if saved is not None:
            messages.success(request, "合同已保存（草稿）。核对无误后可以生效" if contract is None else "合同已保存")
            return redirect("catalog:contract_detail", contract_id=saved.pk)
    chosen = set(form.values()["service_area"]) if posted is not None else set(initial.get("service_area", []))
    context = {"form": form, "rows": rows, "contract": contract, "district": district,
               "area_groups": _area_groups(district), "area_chosen": chosen}
    return render(request, "catalog/contracts/form.html", context)


def contract_create(request: AuthedRequest) -> HttpResponse:
    districts = access.managed_districts(request.user)
    if not districts.exists():
        raise PermissionDenied(access.NOT_MANAGER)
    return _form_page(request, page_district(request, districts), None)


def contract_edit(request: AuthedRequest, contract_id: int) -> HttpResponse:
    contract = access.access_contract(request.user, contract_id, for_write=True)
    if contract.status != ContractStatus.DRAFT:
        messages.error(request, "只有草稿合同可以修改")
        return redirect("catalog:contract_detail", contract_id=contract.pk)
    return _form_page(request, contract.district, contract)


def contract_detail(request: AuthedRequest, contract_id: int) -> HttpResponse:
    contract = access.access_contract(request.user, contract_id)
    may_manage = access.can_manage_catalog(request.user, contract.district)
    context = {
        "contract": contract, "badge": STATUS_BADGES[ContractStatus(contract.status)],
        "lines": contract.items.select_related("item").order_by("item__category", "item__code"),
        "area": contract.service_area.order_by("code"), "may_manage": may_manage,
        "may_edit": may_manage and contract.status == ContractStatus.DRAFT,
        "may_activate": may_manage and contract.status == ContractStatus.DRAFT,
        "may_terminate": may_manage and contract.status == ContractStatus.ACTIVE,
    }
    return render(request, "catalog/contracts/detail.html", context)


@require_POST
def contract_status(request: AuthedRequest, contract_id: int) -> HttpResponse:
    contract = access.access_contract(request.user, contract_id, for_write=True)
    status = request.POST.get("status", "")
    try:
        actions.set_contract_status(contract, status, reason=request.POST.get("reason", ""), acting_user=request.user,
                                    request=request)
    except UserError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "合同已生效" if status == ContractStatus.ACTIVE else "合同已终止")
    return redirect("catalog:contract_detail", contract_id=contract.pk)
