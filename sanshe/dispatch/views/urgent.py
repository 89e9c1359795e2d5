"""The call centre's urgent order (紧急下单): find the caller's elder among the people in scope,
pick the service; the order runs from now to two hours on and is assigned at once, and the page
shows who was chosen and why."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render

from sanshe.accounts.access import capability_scope
from sanshe.accounts.http import AuthedRequest
from sanshe.accounts.models import Capability, RegionLevel
from sanshe.catalog.models import ServiceItem
from sanshe.core.audit import record_event
from sanshe.core.errors import UserError
from sanshe.core.forms import PlatformForm
from sanshe.core.models import AuditAction
from sanshe.dispatch.access import access_urgent_person, urgent_people
from sanshe.dispatch.actions import place_urgent_order
from sanshe.people.models import Person
from sanshe.people.queries import search_q


class ItemChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.get_category_display()}，约 {obj.standard_minutes} 分钟）"


class UrgentForm(PlatformForm, forms.Form):
    item = ItemChoiceField(label="服务项目", queryset=ServiceItem.objects.none(), empty_label="请选择")
    caller = forms.CharField(label="来电人", max_length=50, required=False, help_text="如：女儿 李芳")
    notes = forms.CharField(label="需求说明", max_length=300, required=False,
                            widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, person: Person, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        district = person.residence_region
        while district.parent is not None and district.level != RegionLevel.DISTRICT:
            district = district.parent
        cast(forms.ModelChoiceField, self.fields["item"]).queryset = ServiceItem.objects.filter(
            district=district, is_active=True).order_by("category", "code")
        self.localise_blank_choices()


def urgent_order(request: AuthedRequest) -> HttpResponse:
    """Search a person, then the order form for them; POST places and assigns the order."""
    user = request.user
    if not capability_scope(user, Capability.DISPATCH_ORDERS):
        raise PermissionDenied("您没有紧急下单的权限")
    q = (request.GET.get("q") or "").strip()
    found: list[Person] = []
    if q:
        found = list(urgent_people(user).filter(search_q(q)).select_related("residence_region__parent")
                     .order_by("name", "id")[:20])
        record_event(user, AuditAction.VIEW_PERSON, request=request, subject=f"紧急下单查找：{q}"[:200],
                     row_count=len(found))
    person = access_urgent_person(user, request.GET["person"]) if request.GET.get("person") else None
    form = UrgentForm(request.POST or None, person=person) if person is not None else None
    if person is not None and request.method != "POST":
        record_event(user, AuditAction.VIEW_PERSON, request=request, person_id=person.pk, subject="紧急下单")
    if request.method == "POST" and person is not None and form is not None and form.is_valid():
        data = form.cleaned_data
        try:
            outcome = place_urgent_order(person=person, item=data["item"], acting_user=user, notes=data["notes"],
                                         requested_by_name=data["caller"])
        except UserError as exc:
            form.add_error(None, exc.message)
        else:
            record_event(user, AuditAction.CHANGE_ORDER, request=request, person_id=person.pk,
                         subject=f"紧急下单：工单 {outcome.order.pk}",
                         detail={"caregiver": outcome.assigned.caregiver_id if outcome.assigned else None})
            (messages.success if outcome.assigned else messages.warning)(
                request, f"紧急工单已创建，{outcome.message}")
            return redirect("dispatch:order", order_id=outcome.order.pk)
    return render(request, "dispatch/urgent.html", {"q": q, "found": found, "person": person, "form": form})
