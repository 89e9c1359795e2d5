"""The assessment workflow through its actions: request, assign (conflict of interest refused),
two assessors, drafts, signatures, computed result, review, publication, objection and review by
different assessors, access by role, rescoring after an instrument correction."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from sanshe.accounts.models import Organization, OrganizationKind, Role
from sanshe.assessments import actions, rules
from sanshe.assessments.access import access_assessment, visible_assessments
from sanshe.assessments.models import (
    Assessment,
    AssessmentStatus,
    CapabilityRecord,
    Objection,
    RescoreRun,
    RescoreStatus,
)
from sanshe.core.errors import UserError
from sanshe.people.models import Person, ProviderLink
from tests.factories import Agency, District, Personas, make_person, make_user

SIGNATURE = "data:image/png;base64," + "iVBORw0KGgo" * 30
FULL_MARKS = {code: max(o.score for o in item.options)
              for code, item in rules.load_instrument(rules.DEFAULT_INSTRUMENT).items.items()}


@pytest.fixture
def agency(district: District) -> Agency:
    return Agency(district)


@pytest.fixture
def elder(district: District, personas: Personas) -> Person:
    return make_person(district.community_a1, by=personas.district_officer, name="王秀兰",
                       birth_date=dt.date(1938, 4, 2))


def visit_time() -> dt.datetime:
    return timezone.now() + dt.timedelta(days=2)


def scheduled(elder: Person, personas: Personas, agency: Agency, **request: Any) -> Assessment:
    assessment = actions.request_assessment(elder, reason=request.pop("reason", "first"),
                                            acting_user=personas.community_worker, **request)
    actions.assign_agency(assessment, agency=agency.org, acting_user=personas.district_officer)
    return actions.schedule_visit(assessment, assessor_1=agency.assessor_1, assessor_2=agency.assessor_2,
                                  visit_at=visit_time(), acting_user=agency.manager)


def completed(assessment: Assessment, agency: Agency, answers: dict[str, int] | None = None, **extra: Any) -> Assessment:
    first = assessment.assessor_1
    actions.save_answers(assessment, acting_user=first, answers=answers or FULL_MARKS, **extra)
    actions.sign_assessment(assessment, role="assessor_1", name=first.display_name, image=SIGNATURE, acting_user=first)
    second = assessment.assessor_2
    actions.sign_assessment(assessment, role="assessor_2", name=second.display_name, image=SIGNATURE,
                            acting_user=second)
    actions.sign_assessment(assessment, role="informant", name="王秀兰", image=SIGNATURE, acting_user=first)
    return actions.submit_assessment(assessment, acting_user=first)


def test_from_request_to_the_persons_current_level(elder: Person, personas: Personas, agency: Agency) -> None:
    assessment = scheduled(elder, personas, agency)
    assert assessment.number.startswith("PG")
    answers = dict(FULL_MARKS, **{"B.2.3": 1, "B.2.4": 0, "B.1.3": 1})  # 90 - 3 - 3 - 3 = 81 → level 1
    submitted = completed(assessment, agency, answers)
    assert (submitted.status, submitted.total_score, submitted.final_level) == (AssessmentStatus.SUBMITTED, 81, 1)
    assert submitted.result["dimension_scores"]["B.2"] == 15 - 3 - 3

    published = actions.review_assessment(submitted, approve=True, note="", acting_user=agency.manager)
    record = CapabilityRecord.objects.get(person=elder)
    assert (record.level, record.assessment_id) == (1, published.pk)
    assert record.valid_until == actions.add_months(published.valid_from, 12)  # type: ignore[arg-type]


def test_the_district_interval_sets_the_validity(elder: Person, personas: Personas, agency: Agency,
                                                 district: District) -> None:
    actions.update_settings(district.district, acting_user=personas.district_officer, interval_months=6,
                            objection_days=10, due_soon_days=20)
    published = actions.review_assessment(completed(scheduled(elder, personas, agency), agency), approve=True,
                                          note="", acting_user=agency.manager)
    assert published.valid_until == actions.add_months(published.valid_from, 6)  # type: ignore[arg-type]
    with pytest.raises(PermissionDenied):
        actions.update_settings(district.district, acting_user=personas.community_worker, interval_months=1,
                                objection_days=1, due_soon_days=1)
    with pytest.raises(UserError, match="1 到 60"):
        actions.update_settings(district.district, acting_user=personas.district_officer, interval_months=0,
                                objection_days=10, due_soon_days=20)


def test_an_agency_that_also_serves_the_person_may_not_assess_them(
    elder: Person, personas: Personas, agency: Agency, district: District
) -> None:
    # The same legal entity (same credit code) registered as a provider serving the elder.
    provider = Organization.objects.create(name="衡信居家服务部", kind=OrganizationKind.PROVIDER,
                                           region=district.district, credit_code=agency.org.credit_code)
    ProviderLink.objects.create(person=elder, provider=provider, started_on=dt.date(2025, 1, 1))
    assessment = actions.request_assessment(elder, reason="first", acting_user=personas.community_worker)
    with pytest.raises(UserError, match="利益冲突"):
        actions.assign_agency(assessment, agency=agency.org, acting_user=personas.district_officer)
    assessment.refresh_from_db()
    assert (assessment.status, assessment.agency_id) == (AssessmentStatus.REQUESTED, None)


def test_drafts_are_checked_answer_by_answer_and_nothing_is_typed(
    elder: Person, personas: Personas, agency: Agency
) -> None:
    assessment = scheduled(elder, personas, agency)
    actions.save_answers(assessment, acting_user=agency.assessor_1, answers={"B.1.1": 4})
    with pytest.raises(UserError, match=r"B\.2\.4 上下楼梯 没有 4 分"):
        actions.save_answers(assessment, acting_user=agency.assessor_1, answers={"B.1.2": 3, "B.2.4": 4})
    assessment.refresh_from_db()
    assert assessment.answers == {"B.1.1": 4}  # the refused save changed nothing
    assert assessment.status == AssessmentStatus.IN_PROGRESS
    for role in ("assessor_1", "informant"):
        actions.sign_assessment(assessment, role=role, name="x", image=SIGNATURE, acting_user=agency.assessor_1)
    with pytest.raises(UserError, match="缺少"):  # unanswered items first, then missing signatures
        actions.submit_assessment(assessment, acting_user=agency.assessor_1)
    with pytest.raises(PermissionDenied):
        actions.save_answers(assessment, acting_user=agency.assessor_3, answers={"B.1.2": 3})


def test_signatures_and_assessors(elder: Person, personas: Personas, agency: Agency) -> None:
    assessment = actions.request_assessment(elder, reason="first", acting_user=personas.community_worker)
    actions.assign_agency(assessment, agency=agency.org, acting_user=personas.district_officer)
    with pytest.raises(UserError, match="两名不同的评估员"):
        actions.schedule_visit(assessment, assessor_1=agency.assessor_1, assessor_2=agency.assessor_1, visit_at=visit_time(),
                               acting_user=agency.manager)
    with pytest.raises(UserError, match="不是本机构在职的评估员"):
        actions.schedule_visit(assessment, assessor_1=agency.assessor_1, assessor_2=personas.caregiver,
                               visit_at=visit_time(), acting_user=agency.manager)
    actions.schedule_visit(assessment, assessor_1=agency.assessor_1, assessor_2=agency.assessor_2, visit_at=visit_time(),
                           acting_user=agency.manager)
    actions.save_answers(assessment, acting_user=agency.assessor_1, answers=FULL_MARKS)
    with pytest.raises(UserError, match="本人登录签名"):
        actions.sign_assessment(assessment, role="assessor_2", name="林佳琪", image=SIGNATURE, acting_user=agency.assessor_1)
    with pytest.raises(UserError, match="签名图像无效"):
        actions.sign_assessment(assessment, role="informant", name="王秀兰", image="data:text/plain,hi",
                                acting_user=agency.assessor_1)


def test_level_change_rules_reach_the_stored_result(elder: Person, personas: Personas, agency: Agency) -> None:
    submitted = completed(scheduled(elder, personas, agency), agency, diagnoses=["F03"],
                          risk_events_30d={"fall": 1, "choking": 1})
    assert (submitted.total_score, submitted.preliminary_level, submitted.final_level) == (90, 0, 1)
    assert set(submitted.result["change_reasons"]) == {"dementia_or_mental", "risk_events"}


def test_review_sends_back_and_four_eyes(elder: Person, personas: Personas, agency: Agency) -> None:
    submitted = completed(scheduled(elder, personas, agency), agency)
    with pytest.raises(PermissionDenied):
        actions.review_assessment(submitted, approve=True, note="", acting_user=agency.assessor_1)
    with pytest.raises(UserError, match="原因"):
        actions.review_assessment(submitted, approve=False, note="", acting_user=agency.manager)
    returned = actions.review_assessment(submitted, approve=False, note="B.3.4 记忆与家属所述不符，请复核",
                                         acting_user=agency.manager)
    assert returned.status == AssessmentStatus.IN_PROGRESS
    assert not returned.signatures.exists()  # the corrected form is signed again
    assert not CapabilityRecord.objects.filter(person=elder).exists()


def test_an_objection_opens_a_review_by_different_assessors(
    elder: Person, personas: Personas, agency: Agency
) -> None:
    published = actions.review_assessment(completed(scheduled(elder, personas, agency), agency), approve=True,
                                          note="", acting_user=agency.manager)
    objection = actions.raise_objection(published, raised_by_name="李建华", raised_by_relation="儿子",
                                        reason="老人近期摔倒后行走明显困难", acting_user=personas.community_worker)
    review = objection.review
    assert review is not None
    assert (review.reason, review.status, review.agency_id, review.review_of_id) == (
        "review", AssessmentStatus.ASSIGNED, agency.org.pk, published.pk)
    with pytest.raises(UserError, match="未参加原评估"):
        actions.schedule_visit(review, assessor_1=agency.assessor_1, assessor_2=agency.assessor_3, visit_at=visit_time(),
                               acting_user=agency.manager)
    review = actions.schedule_visit(review, assessor_1=agency.assessor_3, assessor_2=agency.assessor_4,
                                    visit_at=visit_time(), acting_user=agency.manager)
    answers = dict(FULL_MARKS, **{"B.2.3": 0, "B.2.4": 0, "B.2.2": 1, "B.2.1": 1, "B.1.3": 0, "B.1.8": 0})
    redone = actions.review_assessment(completed(review, agency, answers), approve=True, note="",
                                       acting_user=agency.manager)
    assert CapabilityRecord.objects.get(person=elder).assessment_id == redone.pk
    assert Objection.objects.get().status == "review_opened"


def test_objections_only_within_the_period(elder: Person, personas: Personas, agency: Agency) -> None:
    import time_machine

    published = actions.review_assessment(completed(scheduled(elder, personas, agency), agency), approve=True,
                                          note="", acting_user=agency.manager)
    with time_machine.travel(timezone.now() + dt.timedelta(days=40)), pytest.raises(UserError, match="异议期"):
        actions.raise_objection(published, raised_by_name="李建华", raised_by_relation="儿子", reason="不同意结论",
                                acting_user=personas.community_worker)
    assert not Objection.objects.exists()


def test_one_open_assessment_per_person(elder: Person, personas: Personas) -> None:
    actions.request_assessment(elder, reason="first", acting_user=personas.community_worker)
    with pytest.raises(UserError, match="进行中的评估"):
        actions.request_assessment(elder, reason="immediate", acting_user=personas.district_officer)
    with pytest.raises(PermissionDenied):
        actions.request_assessment(make_person(elder.residence_region, by=personas.district_officer, name="赵四"),
                                   reason="first", acting_user=personas.neighbour_worker)


def test_who_sees_an_assessment(elder: Person, personas: Personas, agency: Agency, district: District) -> None:
    assessment = scheduled(elder, personas, agency)
    other_agency = Organization.objects.create(name="别处评估所", kind=OrganizationKind.ASSESSMENT_AGENCY,
                                               region=district.district)
    stranger = make_user("other_assessor", other_agency, Role.ASSESSOR)
    expected = {
        personas.district_officer: True, personas.street_officer: True, personas.community_worker: True,
        personas.neighbour_worker: False, personas.caregiver: False, personas.outsider: False,
        personas.auditor: True, agency.manager: True, agency.assessor_1: True, agency.assessor_3: False, stranger: False,
    }
    for user, sees in expected.items():
        assert visible_assessments(user).filter(pk=assessment.pk).exists() is sees, user.username
    # An assessor loses sight of the person once the assignment is closed.
    published = actions.review_assessment(completed(assessment, agency), approve=True, note="",
                                          acting_user=agency.manager)
    assert not visible_assessments(agency.assessor_1).filter(pk=published.pk).exists()
    from django.http import Http404

    with pytest.raises(Http404):
        access_assessment(agency.assessor_1, published.pk)
    assert access_assessment(agency.manager, published.pk) == published


def test_rescoring_after_an_instrument_correction(elder: Person, personas: Personas, agency: Agency) -> None:
    published = actions.review_assessment(completed(scheduled(elder, personas, agency), agency), approve=True,
                                          note="", acting_user=agency.manager)
    Assessment.objects.filter(pk=published.pk).update(instrument_version="0.old", total_score=1, final_level=4,
                                                      result={"total": 1})
    CapabilityRecord.objects.filter(person=elder).update(level=4)
    run = actions.start_rescore(instrument_code=rules.DEFAULT_INSTRUMENT, version=None,
                                acting_user=personas.district_officer)
    run = RescoreRun.objects.get(pk=run.pk)
    assert (run.status, run.total, run.processed, run.changed, run.level_changed) == (RescoreStatus.DONE, 1, 1, 1, 1)
    published.refresh_from_db()
    assert (published.total_score, published.final_level) == (90, 0)
    assert CapabilityRecord.objects.get(person=elder).level == 0


# --- the same through the API ------------------------------------------------------------------


def token_client(user: Any) -> Any:
    import json

    from django.test import Client

    from tests.factories import PASSWORD

    client = Client()
    token = client.post("/api/v1/auth/token", json.dumps({"username": user.username, "password": PASSWORD}),
                        content_type="application/json").json()["token"]
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def test_the_whole_workflow_through_the_api(elder: Person, personas: Personas, agency: Agency) -> None:
    import json

    def post(client: Any, url: str, body: dict[str, Any], method: str = "post") -> Any:
        return getattr(client, method)(url, json.dumps(body, default=str), content_type="application/json")

    worker, officer, boss = token_client(personas.community_worker), token_client(personas.district_officer), \
        token_client(agency.manager)
    first, second = token_client(agency.assessor_1), token_client(agency.assessor_2)
    created = post(worker, "/api/v1/assessments", {"person_id": elder.pk, "reason": "first"})
    assert created.status_code == 201, created.content
    aid = created.json()["id"]
    assert first.get(f"/api/v1/assessments/{aid}").status_code == 404  # not assigned yet
    assert post(officer, f"/api/v1/assessments/{aid}/assign", {"agency_id": agency.org.pk}).status_code == 200
    scheduled = post(boss, f"/api/v1/assessments/{aid}/schedule", {
        "assessor_1_id": agency.assessor_1.pk, "assessor_2_id": agency.assessor_2.pk, "visit_at": visit_time().isoformat()})
    assert scheduled.status_code == 200, scheduled.content
    bad = post(first, f"/api/v1/assessments/{aid}/answers", {"answers": {"B.2.4": 4}}, method="patch")
    assert bad.status_code == 400
    assert bad.json()["field"] == "answers.B.2.4"
    assert "上下楼梯" in bad.json()["detail"]
    saved = post(first, f"/api/v1/assessments/{aid}/answers", {"answers": FULL_MARKS, "diagnoses": ["F03"]},
                 method="patch")
    assert saved.json()["status"] == "in_progress"
    assert post(worker, f"/api/v1/assessments/{aid}/answers", {"answers": {"B.1.1": 0}},
                method="patch").status_code == 403
    for client, role in ((first, "assessor_1"), (second, "assessor_2"), (first, "informant")):
        signed = post(client, f"/api/v1/assessments/{aid}/signatures", {"role": role, "name": "签名人", "image": SIGNATURE})
        assert signed.status_code == 201, signed.content
    submitted = post(first, f"/api/v1/assessments/{aid}/submit", {})
    assert submitted.json()["result"]["change_reasons"] == ["dementia_or_mental"]
    assert (submitted.json()["total_score"], submitted.json()["final_level"]) == (90, 1)
    assert post(first, f"/api/v1/assessments/{aid}/review", {"approve": True}).status_code == 403
    assert post(boss, f"/api/v1/assessments/{aid}/review", {"approve": True}).json()["status"] == "published"
    level = worker.get(f"/api/v1/people/{elder.pk}/capability").json()
    assert (level["level"], level["is_valid"]) == (1, True)
    assert first.get(f"/api/v1/assessments/{aid}").status_code == 404  # assignment closed
    review = post(worker, f"/api/v1/assessments/{aid}/objections",
                  {"raised_by_name": "李建华", "raised_by_relation": "儿子", "reason": "认为评估偏轻，老人夜间常迷路"})
    assert review.status_code == 201
    assert (review.json()["reason"], review.json()["status"]) == ("review", "assigned")
    assert token_client(personas.neighbour_worker).get(f"/api/v1/assessments/{aid}").status_code == 404


def test_oversight_through_the_api(elder: Person, personas: Personas, agency: Agency, district: District) -> None:
    import json

    published = actions.review_assessment(completed(scheduled(elder, personas, agency), agency), approve=True,
                                          note="", acting_user=agency.manager)
    officer = token_client(personas.district_officer)
    rate = officer.get("/api/v1/assessments/rate").json()
    assert isinstance(rate, list), rate
    assert rate[-1]["target"] == 1  # the elder is 88: in the target population
    assert (rate[-1]["valid"], rate[-1]["rate_percent"]) == (1, 100.0)
    Assessment.objects.filter(pk=published.pk).update(valid_until=dt.date(2020, 1, 1))
    CapabilityRecord.objects.filter(person=elder).update(valid_until=dt.date(2020, 1, 1))
    overdue = officer.get("/api/v1/assessments/due", {"kind": "overdue"}).json()
    assert [row["person_id"] for row in overdue] == [elder.pk]
    assert officer.get("/api/v1/assessments/due", {"kind": "nonsense"}).status_code == 400
    assert token_client(personas.caregiver).get("/api/v1/assessments/due").status_code == 403
    code = district.district.code
    changed = officer.put(f"/api/v1/assessments/settings?region_code={code}",
                          json.dumps({"interval_months": 6, "objection_days": 10, "due_soon_days": 30}),
                          content_type="application/json")
    assert changed.json()["interval_months"] == 6
    refused = token_client(personas.community_worker).put(
        f"/api/v1/assessments/settings?region_code={code}",
        json.dumps({"interval_months": 1, "objection_days": 10, "due_soon_days": 30}), content_type="application/json")
    assert refused.status_code == 404  # the district is outside a community worker's scope
    run = officer.post("/api/v1/assessments/rescore", "{}", content_type="application/json")
    assert run.status_code == 202
    assert RescoreRun.objects.get(pk=run.json()["id"]).status == RescoreStatus.DONE


def test_the_agency_and_its_assessors_see_their_queue_on_the_home_page(
    elder: Person, personas: Personas, agency: Agency
) -> None:
    from django.test import Client

    scheduled(elder, personas, agency)
    for user, words in ((agency.assessor_1, "我的上门评估"), (agency.manager, "待派评估员")):
        client = Client()
        client.force_login(user)
        page = client.get("/").content.decode()
        assert words in page
