"""Checked access to assessments. Region staff see assessments of people in their scope; an
assessment agency sees its own; an assessor sees an assessment (and through it the person) only
while assigned to it and only while the assignment is open."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from sanshe.accounts.access import capability_scope, community_ids_in_scope
from sanshe.accounts.models import ROLE_CAPABILITIES, Capability, Membership, OrganizationKind
from sanshe.assessments.models import ASSIGNMENT_OPEN, Assessment, AssessmentStatus

NOT_FOUND = "没有找到该评估"


def agency_ids(user: Any, capability: Capability) -> list[int]:
    """Assessment agencies where the user holds the capability (cached on the user object)."""
    if not getattr(user, "is_authenticated", False):
        return []
    cache: dict[str, list[int]] = user.__dict__.setdefault("_sanshe_agency_ids", {})
    if capability not in cache:
        memberships = Membership.objects.filter(
            user=user, is_active=True, organization__is_active=True,
            organization__kind=OrganizationKind.ASSESSMENT_AGENCY,
        ).values_list("organization_id", "role")
        cache[capability] = sorted({org for org, role in memberships
                                    if capability in ROLE_CAPABILITIES.get(role, frozenset())})
    return cache[capability]


def visible_assessments(user: Any) -> QuerySet[Assessment]:
    regions = community_ids_in_scope(user, Capability.VIEW_ASSESSMENTS)
    managed = agency_ids(user, Capability.MANAGE_AGENCY_ASSESSMENTS)
    performing = agency_ids(user, Capability.PERFORM_ASSESSMENT)
    q = Q(pk__in=[])
    if regions:
        q |= Q(person__residence_region_id__in=regions)
    if managed:
        q |= Q(agency_id__in=managed)
    if performing:
        q |= (Q(agency_id__in=performing) & Q(status__in=ASSIGNMENT_OPEN)
              & (Q(assessor_1=user) | Q(assessor_2=user)))
    return Assessment.objects.filter(q)


def access_assessment(user: Any, assessment_id: Any) -> Assessment:
    """An assessment the user may see; missing and not yours both 404."""
    try:
        pk = int(assessment_id)
    except (TypeError, ValueError):
        raise Http404(NOT_FOUND) from None
    assessment = (visible_assessments(user).select_related("person__residence_region__parent", "agency",
                                                             "assessor_1", "assessor_2", "requested_by")
                  .filter(pk=pk).first())
    if assessment is None:
        raise Http404(NOT_FOUND)
    return assessment


def can_request(user: Any, person: Any) -> bool:
    return capability_scope(user, Capability.REQUEST_ASSESSMENT).covers(person.residence_region.code)


def can_assign(user: Any, assessment: Assessment) -> bool:
    return capability_scope(user, Capability.ASSIGN_ASSESSMENT).covers(assessment.person.residence_region.code)


def can_manage(user: Any, assessment: Assessment) -> bool:
    return assessment.agency_id is not None and assessment.agency_id in agency_ids(
        user, Capability.MANAGE_AGENCY_ASSESSMENTS)


def can_fill(user: Any, assessment: Assessment) -> bool:
    """Only the two assigned assessors, while the visit is booked or under way."""
    return (
        assessment.status in (AssessmentStatus.SCHEDULED, AssessmentStatus.IN_PROGRESS)
        and user.pk in (assessment.assessor_1_id, assessment.assessor_2_id)
        and assessment.agency_id in agency_ids(user, Capability.PERFORM_ASSESSMENT)
    )


def can_review(user: Any, assessment: Assessment) -> bool:
    """The agency reviews; nobody reviews an assessment they performed (four eyes)."""
    return (
        assessment.status == AssessmentStatus.SUBMITTED
        and can_manage(user, assessment)
        and user.pk not in (assessment.assessor_1_id, assessment.assessor_2_id)
    )


def can_record_objection(user: Any, assessment: Assessment) -> bool:
    return capability_scope(user, Capability.REQUEST_ASSESSMENT).covers(assessment.person.residence_region.code)


def can_cancel(user: Any, assessment: Assessment) -> bool:
    """The requester may withdraw a request nobody has taken up; once assigned, only the district
    (which assigned it) or the agency may cancel."""
    if not assessment.is_open or assessment.status == AssessmentStatus.SUBMITTED:
        return False
    return can_assign(user, assessment) or can_manage(user, assessment) or (
        assessment.status == AssessmentStatus.REQUESTED and can_request(user, assessment.person))
