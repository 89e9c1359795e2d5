"""Applications for a policy (待遇申请), next to the monthly run's 免申即享: find the person, record
who applies for which policy on which day, and show the result — granted with the conditions that
held (and the entitlement on its way through approval), or refused with the first condition not
met. Who sees which applications is in eligibility.access; the list and its rows, shared with the
API (eligibility.api.applications), in eligibility.lists."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from sanshe.accounts.access import has_capability
from sanshe.accounts.http import AuthedRequest
from sanshe.accounts.models import Capability
from sanshe.core.errors import UserError
from sanshe.core.forms import PlatformForm
from sanshe.eligibility.access import (
    access_applicant,
    access_application,
    application_policies,
    can_apply,
    can_read_applications,
)
from sanshe.eligibility.individual import apply_for
from sanshe.eligibility.lists import (
    application_out,
    list_applications,
    page_number,
    policies_open_to,
    record_applications_view,
)
from sanshe.eligibility.models import ApplicationStatus, Policy
from sanshe.people.access import visible_people
from sanshe.people.models import Person
from sanshe.people.queries import search_q

PAGE_SIZE = 30
APPLICANT_KINDS = [("self", "本人"), ("family", "家属"), ("community", "社区代办")]


# --- forms ----------------------------------------------------------------------------------------


class PolicyChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{'免申即享，也可申请' if obj.proactive else '依申请享受'}）"


class ApplicationForm(PlatformForm, forms.Form):
    policy = PolicyChoiceField(label="申请的政策", queryset=Policy.objects.none(), empty_label="请选择")
    applicant_kind = forms.ChoiceField(label="申请人", choices=APPLICANT_KINDS, initial="self",
                                       widget=forms.RadioSelect)
    family_name = forms.CharField(label="家属姓名", max_length=40, required=False)
    family_relation = forms.CharField(label="与老人关系", max_length=20, required=False,
                                      help_text="如：女儿、儿子、配偶")
    applied_on = forms.DateField(label="申请日期", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args: Any, person: Person, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["policy"]).queryset = policies_open_to(person)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("applicant_kind") == "family" and not (data.get("family_name") or "").strip():
            self.add_error("family_name", "家属申请时请填写家属姓名")
        return data

    def applicant(self) -> str:
        data = self.cleaned_data
        kind = data.get("applicant_kind")
        if kind == "family":
            relation = (data.get("family_relation") or "").strip()
            return f"家属 {data['family_name'].strip()}" + (f"（{relation}）" if relation else "")
        return "社区代办" if kind == "community" else "本人"


class ApplicationFilterForm(PlatformForm, forms.Form):
    status = forms.ChoiceField(label="结果", required=False, choices=[("", "全部"), *ApplicationStatus.choices])
    policy = forms.ModelChoiceField(label="政策", queryset=Policy.objects.none(), required=False,
                                    empty_label="全部政策")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["policy"]).queryset = application_policies(user).order_by("code")


# --- pages ----------------------------------------------------------------------------------------


def application_list(request: AuthedRequest) -> HttpResponse:
    """The applications of the user's region, and a search to find the person who applies."""
    user = request.user
    if not can_read_applications(user):
        raise PermissionDenied("您没有查看待遇申请的权限")
    form = ApplicationFilterForm(request.GET or None, user=user)
    data = form.cleaned_data if form.is_valid() else {}
    status, policy = data.get("status") or "", data.get("policy")
    page = page_number(request)
    start = (page - 1) * PAGE_SIZE
    rows = list(list_applications(user, status=status, policy=policy)[start:start + PAGE_SIZE + 1])
    shown = rows[:PAGE_SIZE]
    record_applications_view(user, count=len(shown), page=page, request=request,
                     filters={"status": status, "policy": policy.code if policy else ""})
    q = (request.GET.get("q") or "").strip()
    found: list[Person] = []
    may_apply = has_capability(user, Capability.APPLY_ENTITLEMENT)
    if q and may_apply:
        found = list(visible_people(user, Capability.APPLY_ENTITLEMENT).filter(search_q(q))
                     .select_related("residence_region__parent").order_by("name", "id")[:20])
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "eligibility/applications/list.html", {
        "form": form, "rows": [application_out(a) for a in shown], "page": page, "has_next": len(rows) > PAGE_SIZE,
        "query": query.urlencode(), "q": q, "found": found, "may_apply": may_apply,
    })


def application_new(request: AuthedRequest, person_id: int) -> HttpResponse:
    person = access_applicant(request.user, person_id)
    form = ApplicationForm(request.POST or None, person=person, initial={"applied_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            application = apply_for(person, form.cleaned_data["policy"], applicant=form.applicant(),
                                    applied_on=form.cleaned_data["applied_on"], acting_user=request.user,
                                    request=request)
        except UserError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            if application.status == ApplicationStatus.GRANTED:
                messages.success(request, "申请已受理：符合条件")
            else:
                messages.warning(request, "申请已登记：不符合条件")
            return redirect("eligibility:application_detail", application_id=application.pk)
    return render(request, "eligibility/applications/form.html", {
        "form": form, "person": person, "age": person.age(), "today": timezone.localdate(),
        "earlier": list_applications(request.user, person=person)[:5],
    }, status=400 if form.errors else 200)


def application_detail(request: AuthedRequest, application_id: int) -> HttpResponse:
    application = access_application(request.user, application_id)
    return render(request, "eligibility/applications/detail.html", {
        "a": application, "row": application_out(application),
        "may_apply_again": can_apply(request.user, application.person),
    })

