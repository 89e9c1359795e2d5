"""The assessment report as a PDF download (part of the person's file: audited like a file view)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.http import Http404, HttpResponse

from sanshe.accounts.http import AuthedRequest
from sanshe.assessments import actions
from sanshe.assessments.access import NOT_FOUND, access_assessment, can_manage
from sanshe.assessments.models import Assessment, AssessmentStatus
from sanshe.assessments.report import assessment_report_pdf


def has_report(user: Any, assessment: Assessment) -> bool:
    """A published assessment has a report; a submitted one only for the agency that reviews it."""
    if assessment.status == AssessmentStatus.PUBLISHED:
        return True
    return assessment.status == AssessmentStatus.SUBMITTED and can_manage(user, assessment)


def report_pdf(request: AuthedRequest, assessment_id: int) -> HttpResponse:
    assessment = access_assessment(request.user, assessment_id)
    if not has_report(request.user, assessment):
        raise Http404(NOT_FOUND)
    pdf = assessment_report_pdf(assessment, printed_by=request.user.display_name)
    actions.record_report_view(assessment, acting_user=request.user, request=request)
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = f"评估报告-{assessment.number}.pdf"
    response["Content-Disposition"] = (
        f"inline; filename=\"assessment-report-{assessment.number}.pdf\"; filename*=UTF-8''{quote(filename)}"
    )
    response["Cache-Control"] = "private, no-store"
    return response
