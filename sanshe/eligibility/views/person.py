"""Pages of the eligibility app: what a person receives and why (loaded into the person's file)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from sanshe.accounts.http import AuthedRequest
from sanshe.eligibility.queries import explain_person
from sanshe.people.access import access_person


def person_panel(request: AuthedRequest, person_id: int) -> HttpResponse:
    person = access_person(request.user, person_id)
    rows = explain_person(person, timezone.localdate())
    return render(request, "eligibility/_person_panel.html", {"person": person, "rows": rows})
