"""The assessment pages: the whole workflow through the test client, and who may open what."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from sanshe.accounts.models import Organization, OrganizationKind, Role, User
from sanshe.assessments import actions, rules
from sanshe.assessments.models import (
    Assessment,
    AssessmentReason,
    AssessmentStatus,
    CapabilityRecord,
    Objection,
    ReassessmentTrigger,
    Signature,
)
from sanshe.people.models import Person, ProviderLink
from tests.factories import Agency, District, Personas, client_for, make_person, signature_png

pytestmark = pytest.mark.django_db
S = AssessmentStatus


@pytest.fixture
def agency(district: District) -> Agency:
    return Agency(district)


@pytest.fixture
def elder(district: District, personas: Personas) -> Person:
    return make_person(district.community_a1, by=personas.district_officer, name="张三丰",
                       birth_date=dt.date(1941, 5, 2))


def visit_time() -> str:
    return (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT09:30")


def requested(elder: Person, personas: Personas) -> Assessment:
    return actions.request_assessment(elder, reason=AssessmentReason.FIRST, acting_user=personas.community_worker)


def scheduled(elder: Person, personas: Personas, agency: Agency) -> Assessment:
    a = requested(elder, personas)
    actions.assign_agency(a, agency=agency.org, acting_user=personas.district_officer)
    return actions.schedule_visit(a, assessor_1=agency.assessor_1, assessor_2=agency.assessor_2,
                                  visit_at=timezone.now() + dt.timedelta(days=1), acting_user=agency.manager)


def save(c: Client, a: Assessment, key: str, *values: str) -> Any:
    return c.post(f"/assessments/{a.pk}/form/save/", {"_field": key, key: list(values)}, HTTP_HX_REQUEST="true")


def snapshot(a: Assessment) -> tuple[Any, ...]:
    """Everything a refused request must leave untouched."""
    fresh = Assessment.objects.get(pk=a.pk)
    return (fresh.status, fresh.agency_id, fresh.assessor_1_id, fresh.assessor_2_id, fresh.answers, fresh.basic_info,
            fresh.draft_version, fresh.signatures.count(), fresh.final_level)


def answer_everything(c: Client, a: Assessment, *, score: str = "top") -> None:
    instrument = rules.load_instrument(a.instrument_code, a.instrument_version)
    for code, item in instrument.items.items():
        value = item.max_score if score == "top" else min(item.scores)
        response = save(c, a, code, str(value))
        assert response.status_code == 200, response.content.decode()


# --- the whole workflow ------------------------------------------------------------------------------


def test_request_assign_schedule_fill_sign_submit_approve_and_the_file_shows_the_level(
    personas: Personas, agency: Agency, elder: Person
) -> None:
    worker = client_for(personas.community_worker)
    assert worker.get(f"/assessments/new/{elder.pk}/").status_code == 200
    response = worker.post(f"/assessments/new/{elder.pk}/", {
        "reason": "first", "note": "女儿反映近来行动不便", "requester_name": "张小明", "requester_relation": "子女"})
    a = Assessment.objects.get(person=elder)
    assert response.status_code == 302
    assert response["Location"] == f"/assessments/{a.pk}/"
    assert (a.status, a.requester_name, a.requested_by) == (S.REQUESTED, "张小明", personas.community_worker)
    # A second request while one is open is refused, in Chinese, next to the form.
    again = worker.post(f"/assessments/new/{elder.pk}/", {"reason": "first"})
    assert again.status_code == 200
    assert "已有进行中的评估" in again.content.decode()
    assert Assessment.objects.filter(person=elder).count() == 1

    district = client_for(personas.district_officer)
    page = district.get(f"/assessments/{a.pk}/").content.decode()
    assert "指派评估机构" in page
    assert agency.org.name in page
    assert district.post(f"/assessments/{a.pk}/assign/", {"agency": agency.org.pk}).status_code == 302
    a.refresh_from_db()
    assert (a.status, a.agency) == (S.ASSIGNED, agency.org)

    manager = client_for(agency.manager)
    queue = manager.get("/assessments/").content.decode()
    assert "待派员" in queue
    assert a.number in queue
    response = manager.post(f"/assessments/{a.pk}/schedule/", {
        "assessor_1": agency.assessor_1.pk, "assessor_2": agency.assessor_2.pk, "visit_at": visit_time()})
    assert response.status_code == 302
    a.refresh_from_db()
    assert (a.status, a.assessor_1, a.assessor_2) == (S.SCHEDULED, agency.assessor_1, agency.assessor_2)

    one = client_for(agency.assessor_1)
    mine = one.get("/assessments/").content.decode()
    assert "我的上门评估" in mine
    assert "开始评估" in mine
    form = one.get(f"/assessments/{a.pk}/form/").content.decode()
    assert "B.1.1" in form
    assert "独立使用器具将食物送进口中并咽下，没有呛咳" in form  # the standard's option text
    assert "已答 <strong>0</strong>/26" in form

    response = save(one, a, "B.1.1", "4")
    assert response.status_code == 200
    assert "已答 <strong>1</strong>/26" in response.content.decode()
    a.refresh_from_db()
    assert (a.status, a.answers) == (S.IN_PROGRESS, {"B.1.1": 4})

    before = snapshot(a)
    refused = save(one, a, "B.1.1", "7")
    assert refused.status_code == 422
    assert "B.1.1 进食 没有 7 分这一选项" in refused.content.decode()
    assert snapshot(a) == before

    answer_everything(one, a)
    # B.3.9 0 分 with the coma sub-option: the coma rule applies (level 4 whatever the total).
    assert save(one, a, "B.3.9", "0:coma").status_code == 200
    a.refresh_from_db()
    assert (a.coma, a.answer_keys["B.3.9"]) == (True, "coma")
    totals = save(one, a, "B.3.9", "2").content.decode()
    a.refresh_from_db()
    assert a.coma is False
    assert "最终等级 <strong class=\"lt-final\">0级 能力完好" in totals

    assert save(one, a, "info.height_cm", "158").status_code == 200
    assert save(one, a, "info.weight_kg", "52.50").status_code == 200
    assert save(one, a, "info.medical_payment", "resident_insurance", "critical_illness").status_code == 200
    assert save(one, a, "info.informant_name", "张小明").status_code == 200
    assert save(one, a, "info.informant_relation", "child").status_code == 200
    assert save(one, a, "info.contact_phone", "139 0000 1234").status_code == 200
    assert save(one, a, "risk.fall", "2").status_code == 200
    assert save(one, a, "dx.keys", "hypertension", "dementia").status_code == 200
    assert save(one, a, "need.meal", "daily").status_code == 200
    assert save(one, a, "env.grab_bars", "no").status_code == 200
    assert save(one, a, "env.fall_risks", "threshold", "wet_floor").status_code == 200
    bad_phone = save(one, a, "info.contact_phone", "12345")
    assert bad_phone.status_code == 422
    assert "格式不正确" in bad_phone.content.decode()
    a.refresh_from_db()
    assert a.basic_info["height_cm"] == "158"
    assert a.basic_info["weight_kg"] == "52.5"
    assert a.basic_info["medical_payment"] == ["resident_insurance", "critical_illness"]
    assert a.basic_info["contact_phone"] == "13900001234"
    assert a.risk_events_30d == {"fall": 2}
    assert a.diagnoses == ["F00", "I10"]
    assert a.needs == [{"category": "meal", "frequency": "daily"}]
    assert a.home_environment == {"grab_bars": "no", "fall_risks": ["wet_floor", "threshold"]}

    # Nothing can be submitted before everyone has signed.
    assert one.post(f"/assessments/{a.pk}/form/submit/").status_code == 302
    a.refresh_from_db()
    assert a.status == S.IN_PROGRESS

    png = signature_png()
    signed = one.post(f"/assessments/{a.pk}/form/sign/", {"role": "assessor_1", "name": "周评估", "image": png},
                      HTTP_HX_REQUEST="true")
    assert signed.status_code == 200
    assert "已签名" in signed.content.decode()
    # The second assessor signs only when logged in as themselves.
    not_theirs = one.post(f"/assessments/{a.pk}/form/sign/", {"role": "assessor_2", "name": "吴评估", "image": png},
                          HTTP_HX_REQUEST="true")
    assert "评估员须本人登录签名" in not_theirs.content.decode()
    assert one.post(f"/assessments/{a.pk}/form/sign/", {"role": "informant", "name": "张小明", "image": png},
                    HTTP_HX_REQUEST="true").status_code == 200
    two = client_for(agency.assessor_2)
    assert two.post(f"/assessments/{a.pk}/form/sign/", {"role": "assessor_2", "name": "吴评估", "image": png}
                    ).status_code == 302
    assert set(Signature.objects.filter(assessment=a).values_list("role", flat=True)) == {
        "assessor_1", "assessor_2", "informant"}

    response = one.post(f"/assessments/{a.pk}/form/submit/")
    assert response["Location"] == f"/assessments/{a.pk}/"
    a.refresh_from_db()
    # 90 points (level 0), raised once by dementia and two falls (the raises do not stack).
    assert (a.status, a.total_score, a.preliminary_level, a.final_level) == (S.SUBMITTED, 90, 0, 1)
    detail = one.get(f"/assessments/{a.pk}/").content.decode()
    assert "C.5 最终等级" in detail
    assert "能力轻度受损（轻度失能）" in detail
    # Once submitted, the form is closed to the assessors.
    assert save(one, a, "B.1.1", "3").status_code == 403

    # An assessor never reviews; the manager does.
    assert one.post(f"/assessments/{a.pk}/review/", {"decision": "approve"}).status_code == 403
    response = manager.post(f"/assessments/{a.pk}/review/", {"decision": "approve", "note": "资料齐全"})
    assert response.status_code == 302
    a.refresh_from_db()
    assert a.status == S.PUBLISHED
    assert CapabilityRecord.objects.get(person=elder).level == 1

    panel = worker.get(f"/assessments/person/{elder.pk}/panel/").content.decode()
    assert "能力轻度受损（轻度失能）" in panel
    assert 'id="capability-level"' in panel
    published = worker.get(f"/assessments/{a.pk}/").content.decode()
    assert f"/assessments/{a.pk}/report.pdf" in published

    # The family objects within the period: a review opens with the same agency, other assessors.
    response = worker.post(f"/assessments/{a.pk}/objection/", {
        "raised_by_name": "张小明", "raised_by_relation": "子女", "reason": "母亲夜间经常走失，等级偏低"})
    objection = Objection.objects.get(assessment=a)
    review = objection.review
    assert review is not None
    assert response["Location"] == f"/assessments/{review.pk}/"
    assert (review.status, review.agency, review.reason, review.review_of) == (
        S.ASSIGNED, agency.org, AssessmentReason.REVIEW, a)
    before = snapshot(review)
    refused = manager.post(f"/assessments/{review.pk}/schedule/", {
        "assessor_1": agency.assessor_1.pk, "assessor_2": agency.assessor_3.pk, "visit_at": visit_time()})
    assert refused.status_code == 400
    assert "复评须由未参加原评估的评估员进行" in refused.content.decode()
    assert snapshot(review) == before
    assert manager.post(f"/assessments/{review.pk}/schedule/", {
        "assessor_1": agency.assessor_3.pk, "assessor_2": agency.assessor_4.pk, "visit_at": visit_time()},
    ).status_code == 302
    review.refresh_from_db()
    assert (review.status, review.assessor_1, review.assessor_2) == (S.SCHEDULED, agency.assessor_3, agency.assessor_4)
    # The original assessors no longer see anything of the person through the new assessment.
    assert one.get(f"/assessments/{review.pk}/").status_code == 404


def test_the_agency_sends_an_assessment_back_with_a_reason(personas: Personas, agency: Agency, elder: Person) -> None:
    a = scheduled(elder, personas, agency)
    one = client_for(agency.assessor_1)
    answer_everything(one, a)
    png = signature_png()
    for user, role in ((agency.assessor_1, "assessor_1"), (agency.assessor_2, "assessor_2"),
                       (agency.assessor_1, "informant")):
        actions.sign_assessment(a, role=role, name="签名人", image=png, acting_user=user)
    actions.submit_assessment(a, acting_user=agency.assessor_1)
    manager = client_for(agency.manager)
    before = snapshot(a)
    no_reason = manager.post(f"/assessments/{a.pk}/review/", {"decision": "return", "note": ""})
    assert no_reason.status_code == 400
    assert "退回时请写明原因" in no_reason.content.decode()
    assert snapshot(a) == before
    assert manager.post(f"/assessments/{a.pk}/review/", {"decision": "return", "note": "B.2.3 与现场照片不符"}
                        ).status_code == 302
    a.refresh_from_db()
    assert (a.status, a.signatures.count()) == (S.IN_PROGRESS, 0)
    assert "B.2.3 与现场照片不符" in one.get(f"/assessments/{a.pk}/form/").content.decode()


def test_an_agency_that_also_serves_the_person_is_refused_for_conflict_of_interest(
    personas: Personas, agency: Agency, elder: Person, district: District
) -> None:
    provider = Organization.objects.create(name="康评居家养老服务部", kind=OrganizationKind.PROVIDER,
                                           region=district.district, credit_code=agency.org.credit_code)
    ProviderLink.objects.create(person=elder, provider=provider, started_on=timezone.localdate() - dt.timedelta(days=90))
    a = requested(elder, personas)
    district_client = client_for(personas.district_officer)
    page = district_client.get(f"/assessments/{a.pk}/").content.decode()
    assert "存在利益冲突，不可指派" in page
    before = snapshot(a)
    response = district_client.post(f"/assessments/{a.pk}/assign/", {"agency": agency.org.pk})
    assert response.status_code == 400
    assert "存在利益冲突" in response.content.decode()
    assert snapshot(a) == before
    other = Agency(district, name="溪口第三方评估所", prefix="x", credit_code="52330199MJB7654321")
    assert district_client.post(f"/assessments/{a.pk}/assign/", {"agency": other.org.pk}).status_code == 302
    a.refresh_from_db()
    assert a.agency == other.org


def test_the_person_panel_offers_a_request_and_records_an_immediate_assessment_event(
    personas: Personas, elder: Person
) -> None:
    worker = client_for(personas.community_worker)
    panel = worker.get(f"/assessments/person/{elder.pk}/panel/").content.decode()
    assert "尚未进行能力评估" in panel
    assert f"/assessments/new/{elder.pk}/" in panel
    response = worker.post(f"/assessments/person/{elder.pk}/trigger/", {
        "kind": "fall", "occurred_on": timezone.localdate().isoformat(), "note": "夜间起床跌倒"},
        HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "已登记即时评估事件" in response.content.decode()
    assert ReassessmentTrigger.objects.get(person=elder).note == "夜间起床跌倒"
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    future = worker.post(f"/assessments/person/{elder.pk}/trigger/", {"kind": "fall", "occurred_on": tomorrow},
                         HTTP_HX_REQUEST="true")
    assert "发生日期不能晚于今天" in future.content.decode()
    assert ReassessmentTrigger.objects.filter(person=elder).count() == 1
    # The person's file loads the panel by itself.
    assert f"/assessments/person/{elder.pk}/panel/" in worker.get(f"/people/{elder.pk}/").content.decode()


# --- who may open what --------------------------------------------------------------------------------


def test_the_list_answers_each_role_and_refuses_people_without_assessment_work(
    personas: Personas, agency: Agency, elder: Person
) -> None:
    a = scheduled(elder, personas, agency)
    for user in (personas.district_officer, personas.street_officer, personas.community_worker,
                 personas.auditor, agency.manager, agency.assessor_1):
        assert client_for(user).get("/assessments/").status_code == 200, user.username
    for user in (personas.caregiver, personas.operator, personas.outsider, personas.admin):
        assert client_for(user).get("/assessments/").status_code == 403, user.username
    assert a.number in client_for(personas.community_worker).get("/assessments/?status=scheduled").content.decode()
    assert a.number not in client_for(personas.neighbour_worker).get("/assessments/").content.decode()
    assert "能力评估" in client_for(agency.assessor_1).get("/").content.decode()
    assert "能力评估" not in client_for(personas.caregiver).get("/").content.decode()


def test_an_assessment_is_404_outside_the_users_scope(personas: Personas, agency: Agency, elder: Person,
                                                     district: District) -> None:
    a = scheduled(elder, personas, agency)
    other = Agency(district, name="桂花评估服务社", prefix="g", credit_code="")
    for user in (personas.neighbour_worker, personas.caregiver, personas.outsider, other.manager, other.assessor_1,
                 agency.assessor_3):
        c = client_for(user)
        assert c.get(f"/assessments/{a.pk}/").status_code == 404, user.username
        assert c.get(f"/assessments/{a.pk}/form/").status_code == 404, user.username
    assert client_for(personas.district_officer).get("/assessments/999999/").status_code == 404


def test_only_the_assigned_assessors_fill_in_the_form(personas: Personas, agency: Agency, elder: Person) -> None:
    a = scheduled(elder, personas, agency)
    before = snapshot(a)
    for user in (personas.district_officer, personas.community_worker, agency.manager):
        c = client_for(user)
        assert c.get(f"/assessments/{a.pk}/").status_code == 200, user.username
        assert c.get(f"/assessments/{a.pk}/form/").status_code == 403, user.username
        assert save(c, a, "B.1.1", "4").status_code == 403, user.username
        assert c.post(f"/assessments/{a.pk}/form/sign/", {"role": "informant", "name": "某", "image": signature_png()}
                      ).status_code == 403, user.username
        assert c.post(f"/assessments/{a.pk}/form/submit/").status_code == 403, user.username
    assert snapshot(a) == before
    assert client_for(agency.assessor_2).get(f"/assessments/{a.pk}/form/").status_code == 200


def test_workflow_steps_are_refused_to_the_wrong_roles_and_nothing_changes(
    personas: Personas, agency: Agency, elder: Person
) -> None:
    a = requested(elder, personas)
    before = snapshot(a)
    worker = client_for(personas.community_worker)
    assert worker.post(f"/assessments/{a.pk}/assign/", {"agency": agency.org.pk}).status_code == 403
    assert snapshot(a) == before
    actions.assign_agency(a, agency=agency.org, acting_user=personas.district_officer)
    before = snapshot(a)
    # The district sees the assessment but does not staff it; an assessor does not see it before being sent.
    for user, status in ((personas.district_officer, 403), (agency.assessor_1, 404)):
        response = client_for(user).post(f"/assessments/{a.pk}/schedule/", {
            "assessor_1": agency.assessor_1.pk, "assessor_2": agency.assessor_2.pk, "visit_at": visit_time()})
        assert response.status_code == status, user.username
    assert client_for(agency.manager).post(f"/assessments/{a.pk}/objection/", {
        "raised_by_name": "某", "raised_by_relation": "本人", "reason": "不同意评估结果"}).status_code == 403
    assert snapshot(a) == before


def test_requests_and_panels_follow_the_persons_file_access(personas: Personas, elder: Person, agency: Agency) -> None:
    assert client_for(personas.neighbour_worker).get(f"/assessments/new/{elder.pk}/").status_code == 404
    assert client_for(personas.neighbour_worker).get(f"/assessments/person/{elder.pk}/panel/").status_code == 404
    assert client_for(agency.manager).get(f"/assessments/person/{elder.pk}/panel/").status_code == 404
    operator = client_for(personas.operator)  # sees files, may not request assessments
    assert operator.get(f"/assessments/new/{elder.pk}/").status_code == 403
    assert operator.post(f"/assessments/new/{elder.pk}/", {"reason": "first"}).status_code == 403
    panel = operator.get(f"/assessments/person/{elder.pk}/panel/").content.decode()
    assert "申请评估" not in panel
    assert operator.post(f"/assessments/person/{elder.pk}/trigger/", {
        "kind": "fall", "occurred_on": timezone.localdate().isoformat()}).status_code == 403
    assert not Assessment.objects.filter(person=elder).exists()
    assert not ReassessmentTrigger.objects.filter(person=elder).exists()


def test_a_cancelled_assessment_frees_the_person_for_a_new_request(personas: Personas, elder: Person) -> None:
    a = requested(elder, personas)
    worker = client_for(personas.community_worker)
    refused = worker.post(f"/assessments/{a.pk}/cancel/", {"reason": ""})
    assert refused.status_code == 400
    assert Assessment.objects.get(pk=a.pk).status == S.REQUESTED
    assert worker.post(f"/assessments/{a.pk}/cancel/", {"reason": "老人已入住养老机构"}).status_code == 302
    assert Assessment.objects.get(pk=a.pk).status == S.CANCELLED
    assert worker.post(f"/assessments/new/{elder.pk}/", {"reason": "first"}).status_code == 302
    assert Assessment.objects.filter(person=elder, status=S.REQUESTED).count() == 1


def test_a_user_of_two_roles_sees_both_lists(personas: Personas, agency: Agency, elder: Person) -> None:
    a = scheduled(elder, personas, agency)
    both: User = agency.assessor_1
    from sanshe.accounts import actions as account_actions

    account_actions.add_membership(both, organization=agency.org, role=Role.AGENCY_MANAGER)
    page = client_for(both).get("/assessments/").content.decode()
    assert "我的上门评估" in page
    assert "待审核" in page
    assert a.number in page


def test_the_form_is_built_from_the_instrument_an_older_standard_shows_its_own_items(
    personas: Personas, agency: Agency, elder: Person
) -> None:
    a = actions.request_assessment(elder, reason=AssessmentReason.ROUTINE, acting_user=personas.community_worker,
                                   instrument_code="MZ/T 039-2013")
    actions.assign_agency(a, agency=agency.org, acting_user=personas.district_officer)
    actions.schedule_visit(a, assessor_1=agency.assessor_1, assessor_2=agency.assessor_2,
                           visit_at=timezone.now() + dt.timedelta(days=1), acting_user=agency.manager)
    one = client_for(agency.assessor_1)
    form = one.get(f"/assessments/{a.pk}/form/").content.decode()
    instrument = rules.load_instrument("MZ/T 039-2013")
    assert f"已答 <strong>0</strong>/{len(instrument.items)}" in form
    assert "B.1.10" in form  # 上下楼梯, an item GB/T 42195 does not have
    assert "B.3.9" not in form
    assert save(one, a, "B.1.8", "15").status_code == 200
    refused = save(one, a, "B.1.8", "4")
    assert refused.status_code == 422
    assert "没有 4 分这一选项" in refused.content.decode()
    assert Assessment.objects.get(pk=a.pk).answers == {"B.1.8": 15}
