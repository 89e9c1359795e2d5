"""The printable assessment report (Appendix C): who may download it, what it says, the audit."""

from __future__ import annotations

import base64
import datetime as dt
import re
import shutil
import subprocess
from urllib.parse import quote

import pytest
from django.utils import timezone

from sanshe.accounts.models import User
from sanshe.assessments import report, rules
from sanshe.assessments.models import (
    Assessment,
    AssessmentReason,
    AssessmentStatus,
    CapabilityRecord,
    Signature,
    SignerRole,
)
from sanshe.core.models import AuditAction, AuditEvent
from sanshe.people.models import Person
from tests.factories import Agency, District, Personas, client_for, make_person, signature_png

pytestmark = pytest.mark.django_db


@pytest.fixture
def agency(district: District) -> Agency:
    return Agency(district)


@pytest.fixture
def elder(district: District, personas: Personas) -> Person:
    return make_person(district.community_a1, by=personas.district_officer, name="张三丰",
                       birth_date=dt.date(1944, 3, 8))


def make_assessment(person: Person, agency: Agency, *, by: User, status: str = AssessmentStatus.PUBLISHED,
                    signature: str | None = None, instrument_code: str = rules.DEFAULT_INSTRUMENT) -> Assessment:
    """A complete assessment written straight to the database, as the workflow leaves it."""
    instrument = rules.load_instrument(instrument_code)
    answers = {code: item.max_score for code, item in instrument.items.items()}
    if instrument.code == rules.DEFAULT_INSTRUMENT:
        answers.update({"B.1.3": 1, "B.1.8": 2, "B.2.3": 2, "B.2.4": 1, "B.3.4": 2, "B.4.4": 1})  # total 77
    result = rules.score(instrument, answers, risk_events_30d={"fall": 2})
    today = timezone.localdate()
    published = status == AssessmentStatus.PUBLISHED
    assessment = Assessment.objects.create(
        person=person, number=f"PG2025{Assessment.objects.count() + 1:07d}", reason=AssessmentReason.FIRST,
        status=status, requested_by=by, agency=agency.org, assigned_by=by, assigned_at=timezone.now(),
        assessor_1=agency.assessor_1, assessor_2=agency.assessor_2,
        instrument_code=instrument.code, instrument_version=instrument.version, assessed_on=today - dt.timedelta(days=3),
        answers=answers, risk_events_30d={"fall": 2}, result=result.as_dict(), total_score=result.total,
        preliminary_level=result.preliminary_level, final_level=result.final_level,
        submitted_at=timezone.now(),
        reviewed_by=agency.manager if published else None, reviewed_at=timezone.now() if published else None,
        published_at=timezone.now() if published else None,
        valid_from=today - dt.timedelta(days=3) if published else None,
        valid_until=today + dt.timedelta(days=362) if published else None,
        objection_until=today + dt.timedelta(days=15) if published else None,
    )
    image = signature or signature_png()
    for role, name, user in ((SignerRole.ASSESSOR_1, "周评估", agency.assessor_1),
                             (SignerRole.ASSESSOR_2, "吴评估", agency.assessor_2),
                             (SignerRole.INFORMANT, "张小明", None)):
        Signature.objects.create(assessment=assessment, role=role, name=name, image=image, user=user)
    if published:
        CapabilityRecord.objects.create(person=person, assessment=assessment, level=result.final_level,
                                        assessed_on=assessment.valid_from, valid_until=assessment.valid_until)
    return assessment


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


def pdf_text(pdf: bytes) -> str | None:
    if shutil.which("pdftotext") is None:
        return None
    done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True)  # noqa: S607
    return done.stdout.decode()


def report_views() -> int:
    return AuditEvent.objects.filter(action=AuditAction.VIEW_ASSESSMENT_REPORT).count()


def test_a_district_officer_downloads_the_published_report_as_one_pdf_page(
    personas: Personas, agency: Agency, elder: Person
) -> None:
    assessment = make_assessment(elder, agency, by=personas.district_officer)
    response = client_for(personas.district_officer).get(f"/assessments/{assessment.pk}/report.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline;")
    assert quote(f"评估报告-{assessment.number}.pdf") in response["Content-Disposition"]
    assert response["Cache-Control"] == "private, no-store"
    assert response.content.startswith(b"%PDF-")
    assert page_count(response.content) == 1


def test_the_report_reads_like_appendix_c(personas: Personas, agency: Agency, elder: Person) -> None:
    assessment = make_assessment(elder, agency, by=personas.district_officer)
    pdf = client_for(personas.district_officer).get(f"/assessments/{assessment.pk}/report.pdf").content
    text = pdf_text(pdf)
    if text is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    flat = re.sub(r"\s+", "", text)
    assert "老年人能力评估报告" in flat
    assert "张*丰" in flat  # the name is printed masked
    assert "张三丰" not in flat
    assert elder.id_number_masked in flat
    for heading in ("C.1一级指标分级", "C.2老年人能力总得分", "C.3老年人能力初步等级", "C.4能力等级变更依据",
                    "C.5老年人能力最终等级"):
        assert heading in flat
    assert "77分（满分90分）" in flat
    assert "2级能力中度受损（中度失能）" in flat  # level 1 raised by the two falls
    assert "近30天内发生过2次及以上照护风险事件" in flat
    assert "周评估" in flat
    assert "吴评估" in flat
    assert "张小明" in flat
    assert "郑主任" in flat
    assert "青溪康评老年人能力评估中心" in flat
    assert f"{assessment.objection_until.year}年{assessment.objection_until.month}月{assessment.objection_until.day}日前" in flat


def test_every_download_is_audited_like_a_file_view(personas: Personas, agency: Agency, elder: Person) -> None:
    assessment = make_assessment(elder, agency, by=personas.district_officer)
    c = client_for(personas.community_worker)
    c.get(f"/assessments/{assessment.pk}/report.pdf")
    c.get(f"/assessments/{assessment.pk}/report.pdf")
    events = AuditEvent.objects.filter(action=AuditAction.VIEW_ASSESSMENT_REPORT)
    assert events.count() == 2
    assert {(e.actor_id, e.person_id) for e in events} == {(personas.community_worker.pk, elder.pk)}
    assert assessment.number in events.first().subject


@pytest.mark.parametrize("who", ["outsider", "neighbour_worker", "caregiver", "operator"])
def test_people_without_the_assessment_in_scope_get_404_and_nothing_is_audited(
    personas: Personas, agency: Agency, elder: Person, who: str
) -> None:
    assessment = make_assessment(elder, agency, by=personas.district_officer)
    response = client_for(getattr(personas, who)).get(f"/assessments/{assessment.pk}/report.pdf")
    assert response.status_code == 404
    assert report_views() == 0


def test_an_assessor_gets_404_once_the_assignment_closed(personas: Personas, agency: Agency, elder: Person) -> None:
    assessment = make_assessment(elder, agency, by=personas.district_officer)
    response = client_for(agency.assessor_1).get(f"/assessments/{assessment.pk}/report.pdf")
    assert response.status_code == 404
    assert report_views() == 0


def test_a_submitted_assessment_has_a_report_only_for_the_agency_reviewer(
    personas: Personas, agency: Agency, elder: Person
) -> None:
    assessment = make_assessment(elder, agency, by=personas.district_officer, status=AssessmentStatus.SUBMITTED)
    url = f"/assessments/{assessment.pk}/report.pdf"
    for user in (personas.district_officer, personas.community_worker, agency.assessor_1):
        assert client_for(user).get(url).status_code == 404
    assert report_views() == 0
    response = client_for(agency.manager).get(url)
    assert response.status_code == 200
    assert report_views() == 1
    text = pdf_text(response.content)
    if text is not None:
        flat = re.sub(r"\s+", "", text)
        assert "审核通过并发布后生效" in flat
        assert "（待审核）" in flat


@pytest.mark.parametrize("status", [AssessmentStatus.REQUESTED, AssessmentStatus.IN_PROGRESS,
                                    AssessmentStatus.CANCELLED])
def test_an_unfinished_assessment_has_no_report(personas: Personas, agency: Agency, elder: Person, status: str) -> None:
    assessment = make_assessment(elder, agency, by=personas.district_officer, status=status)
    for user in (personas.district_officer, agency.manager):
        assert client_for(user).get(f"/assessments/{assessment.pk}/report.pdf").status_code == 404
    assert report_views() == 0


def test_a_signature_that_cannot_be_read_does_not_break_the_report(
    personas: Personas, agency: Agency, elder: Person
) -> None:
    broken = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 400).decode()
    assessment = make_assessment(elder, agency, by=personas.district_officer, signature=broken)
    response = client_for(personas.district_officer).get(f"/assessments/{assessment.pk}/report.pdf")
    assert response.status_code == 200
    assert page_count(response.content) == 1
    text = pdf_text(response.content)
    if text is not None:
        assert "签名图像无法显示" in re.sub(r"\s+", "", text)


def test_without_a_truetype_cjk_font_the_report_uses_the_builtin_cid_font(
    personas: Personas, agency: Agency, elder: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    assessment = make_assessment(elder, agency, by=personas.district_officer)
    monkeypatch.setattr(report, "FONT_CANDIDATES", (("/nonexistent/font.ttc", 0),))
    report.cjk_font.cache_clear()
    try:
        pdf = report.assessment_report_pdf(assessment)
    finally:
        report.cjk_font.cache_clear()
    assert pdf.startswith(b"%PDF-")
    assert b"STSong-Light" in pdf
    assert page_count(pdf) == 1


def test_an_assessment_under_mz_t_039_prints_dimension_grades_and_no_total(
    personas: Personas, agency: Agency, elder: Person
) -> None:
    assessment = make_assessment(elder, agency, by=personas.district_officer, instrument_code="MZ/T 039-2013")
    pdf = client_for(personas.district_officer).get(f"/assessments/{assessment.pk}/report.pdf").content
    assert page_count(pdf) == 1
    text = pdf_text(pdf)
    if text is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    flat = re.sub(r"\s+", "", text)
    assert "MZ/T039-2013" in flat
    assert "不计总分" in flat
    assert "级能力完好" in flat
