"""Applications (依申请享受), next to the monthly run's 免申即享: the community worker records who
applies — the elder, a relative or the community on their behalf — for which policy and on which
day; the platform checks the same conditions at once (seed 001_47f0e4c388d9ed24.txt, 80岁以上 …) and
shows the conditions that held, or the first one that did not. Lists show masked names to the
people's own community only, and every application and every view of a list is on the audit log."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.test import Client

from sanshe.core.models import AuditAction, AuditEvent
from sanshe.eligibility import actions, authoring
from sanshe.eligibility.models import (
    Application,
    BenefitKind,
    Entitlement,
    EntitlementStatus,
    Fund,
    Policy,
    PolicyStatus,
    Proration,
)
from sanshe.people.models import Person
from tests.factories import PASSWORD, District, Personas, client_for, make_person
from tests.test_eligibility_runs_pages import other_district

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 12, 20, 10, 0, tzinfo=dt.UTC)
DEC = dt.date(2026, 12, 1)
AGED_80 = {"field": "age", "op": "gte", "value": 80}


def on_request(d: District, by: Any, code: str, name: str, *, proration: str = Proration.DAILY) -> Policy:
    """A policy granted only to those who apply (not 免申即享)."""
    fund, _ = Fund.objects.get_or_create(district=d.district, code="welfare", defaults={"name": "福彩公益金"})
    p = Policy.objects.create(district=d.district, code=code, name=name, legal_basis="青民〔2026〕12号", fund=fund,
                              benefit_kind=BenefitKind.MONTHLY_QUOTA, proactive=False, status=PolicyStatus.ACTIVE,
                              created_by=by)
    authoring.add_version(p, effective_from=dt.date(2026, 1, 1), condition=AGED_80, amount=Decimal("300"),
                          acting_user=by, proration=proration)
    return p


def aged(d: District, by: Any, age: int, name: str, community: Any = None) -> Person:
    return make_person(community or d.community_a1, by=by, name=name, birth_date=dt.date(2026 - age, 6, 1))


@pytest.fixture
def care(district: District, personas: Personas) -> Policy:
    return on_request(district, personas.district_officer, "home_care_on_request", "高龄居家照护补贴（依申请）")


def apply_on_page(client: Client, person: Person, policy: Policy, **values: Any) -> Any:
    data = {"policy": policy.pk, "applicant_kind": "self", "applied_on": "2026-12-20", **values}
    return client.post(f"/eligibility/applications/new/{person.pk}/", data)


def audit(action: AuditAction) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


@time_machine.travel(TODAY, tick=False)
def test_a_relative_applies_from_the_persons_file_and_the_entitlement_goes_for_approval(
    district: District, personas: Personas, care: Policy
) -> None:
    by = personas.district_officer
    elder = aged(district, by, 85, "欧阳秀兰")
    actions.run_month(district.district, DEC, acting_user=by)
    worker = client_for(personas.community_worker)
    panel = worker.get(f"/eligibility/person/{elder.pk}/panel/").content.decode()
    assert f"/eligibility/applications/new/{elder.pk}/" in panel
    form = worker.get(f"/eligibility/applications/new/{elder.pk}/").content.decode()
    assert "高龄居家照护补贴（依申请）" in form
    assert 'value="2026-12-20"' in form  # today, ready to change
    response = apply_on_page(worker, elder, care, applicant_kind="family", family_name="李芳", family_relation="女儿")
    application = Application.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/eligibility/applications/{application.pk}/"
    assert (application.status, application.applicant) == ("granted", "家属 李芳（女儿）")
    assert application.entitlement is not None
    assert application.entitlement.status == EntitlementStatus.PENDING
    page = worker.get(response["Location"]).content.decode()
    assert "符合条件，已受理" in page
    assert "进入审核" in page
    assert "年龄 85岁 ≥ 80岁" in page
    assert f"/eligibility/approvals/{application.entitlement.batch_id}/" in page
    [event] = audit(AuditAction.APPLY_ENTITLEMENT)
    assert (event.actor, event.person_id) == (personas.community_worker, elder.pk)


@time_machine.travel(TODAY, tick=False)
def test_a_refusal_names_the_first_condition_not_met(district: District, personas: Personas, care: Policy) -> None:
    young = aged(district, personas.district_officer, 78, "林桂芬")
    worker = client_for(personas.community_worker)
    response = apply_on_page(worker, young, care, applicant_kind="community")
    application = Application.objects.get()
    assert (application.status, application.applicant) == ("refused", "社区代办")
    page = worker.get(response["Location"]).content.decode()
    assert "不符合条件" in page
    assert "年龄 78岁 &lt; 80岁" in page
    assert not Entitlement.objects.exists()


@time_machine.travel(TODAY, tick=False)
def test_under_whole_month_payment_a_mid_month_application_is_paid_from_the_next_month(
    district: District, personas: Personas
) -> None:
    by = personas.district_officer
    whole = on_request(district, by, "whole_month", "整月计发补贴", proration=Proration.NONE)
    elder = aged(district, by, 90, "周德明")
    actions.run_month(district.district, DEC, acting_user=by)
    worker = client_for(personas.community_worker)
    page = worker.get(apply_on_page(worker, elder, whole)["Location"]).content.decode()
    assert "符合条件，已受理" in page
    assert "自次月起享受" in page


@time_machine.travel(TODAY, tick=False)
def test_bad_input_is_explained_and_nothing_is_recorded(district: District, personas: Personas,
                                                        care: Policy) -> None:
    elder = aged(district, personas.district_officer, 85, "吴淑珍")
    worker = client_for(personas.community_worker)
    no_name = apply_on_page(worker, elder, care, applicant_kind="family")
    assert no_name.status_code == 400
    assert "家属申请时请填写家属姓名" in no_name.content.decode()
    future = apply_on_page(worker, elder, care, applied_on="2026-12-25")
    assert future.status_code == 400
    assert "申请日期不能晚于今天" in future.content.decode()
    retired = Policy.objects.filter(pk=care.pk)
    retired.update(status=PolicyStatus.RETIRED)
    assert apply_on_page(worker, elder, care).status_code == 400  # no longer offered
    assert not Application.objects.exists()
    assert audit(AuditAction.APPLY_ENTITLEMENT) == []


@time_machine.travel(TODAY, tick=False)
def test_only_workers_of_the_persons_region_take_applications(
    district: District, personas: Personas, care: Policy
) -> None:
    elder = aged(district, personas.district_officer, 85, "郑国强")
    url = f"/eligibility/applications/new/{elder.pk}/"
    assert client_for(personas.neighbour_worker).get(url).status_code == 404  # another community
    assert client_for(other_district()[1]).get(url).status_code == 404
    assert client_for(personas.auditor).get(url).status_code == 403  # sees files, takes no applications
    assert apply_on_page(client_for(personas.neighbour_worker), elder, care).status_code == 404
    assert client_for(personas.street_officer).get(url).status_code == 200
    assert not Application.objects.exists()


@time_machine.travel(TODAY, tick=False)
def test_the_list_is_masked_scoped_and_audited_and_finds_the_person_to_apply_for(
    district: District, personas: Personas, care: Policy
) -> None:
    by = personas.district_officer
    mine = aged(district, by, 85, "欧阳秀兰")
    theirs = aged(district, by, 86, "周德明", district.community_a2)
    apply_on_page(client_for(personas.community_worker), mine, care)
    apply_on_page(client_for(personas.neighbour_worker), theirs, care)
    page = client_for(personas.community_worker).get("/eligibility/applications/").content.decode()
    assert "欧**兰" in page
    assert "欧阳秀兰" not in page
    assert "周*明" not in page  # another community
    district_page = client_for(personas.district_officer).get("/eligibility/applications/?status=granted")
    assert "周*明" in district_page.content.decode()
    assert [e.row_count for e in audit(AuditAction.VIEW_ENTITLEMENTS)] == [1, 2]
    found = client_for(personas.community_worker).get("/eligibility/applications/?q=欧阳秀兰").content.decode()
    assert f"/eligibility/applications/new/{mine.pk}/" in found
    assert "欧阳秀兰" not in found.split('id="found"')[1].split("</section>")[0]
    assert f"/eligibility/applications/new/{theirs.pk}/" not in client_for(personas.community_worker).get(
        "/eligibility/applications/?q=周德明").content.decode()
    detail = Application.objects.get(person=theirs)
    assert client_for(personas.community_worker).get(f"/eligibility/applications/{detail.pk}/").status_code == 404
    assert client_for(personas.caregiver).get("/eligibility/applications/").status_code == 403


def token(client: Client, username: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", json.dumps({"username": username, "password": PASSWORD}),
                           content_type="application/json")
    return {"HTTP_AUTHORIZATION": f"Bearer {response.json()['token']}"}


@time_machine.travel(TODAY, tick=False)
def test_the_api_takes_an_application_and_lists_them_masked(
    district: District, personas: Personas, care: Policy
) -> None:
    by = personas.district_officer
    elder = aged(district, by, 85, "欧阳秀兰")
    young = aged(district, by, 78, "林桂芬")
    client = Client()
    auth = token(client, "worker")

    def post(person: Person, **extra: Any) -> Any:
        body = {"person_id": person.pk, "policy_id": care.pk, "applicant": "本人", "applied_on": "2026-12-20", **extra}
        return client.post("/api/v1/applications", json.dumps(body), content_type="application/json", **auth)

    granted = post(elder)
    assert granted.status_code == 201
    assert granted.json()["status"] == "granted"
    assert granted.json()["person_name"] == "欧**兰"
    assert "年龄 85岁 ≥ 80岁" in granted.json()["checks"]
    refused = post(young).json()
    assert (refused["status"], refused["failure"]) == ("refused", "年龄 78岁 < 80岁")
    future = post(elder, applied_on="2026-12-31")
    assert future.status_code == 400
    assert future.json()["detail"] == "申请日期不能晚于今天"
    listed = client.get("/api/v1/applications?status=refused", **auth).json()
    assert [a["person_name"] for a in listed] == ["林*芬"]
    assert client.get(f"/api/v1/applications/{granted.json()['id']}", **auth).json()["entitlement_id"] is None
    neighbour = Client()
    neighbour_auth = token(neighbour, "neighbour")
    assert neighbour.get(f"/api/v1/applications/{granted.json()['id']}", **neighbour_auth).status_code == 404
    assert neighbour.get("/api/v1/applications", **neighbour_auth).json() == []
    assert neighbour.post("/api/v1/applications", json.dumps({
        "person_id": elder.pk, "policy_id": care.pk, "applicant": "本人", "applied_on": "2026-12-20"}),
        content_type="application/json", **neighbour_auth).status_code == 404
    assert Application.objects.count() == 2
    assert len(audit(AuditAction.APPLY_ENTITLEMENT)) == 2
