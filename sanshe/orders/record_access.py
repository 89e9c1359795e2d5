"""Checked access to service records, delivery alerts and home care beds.

Who sees what: the community, street and district through VIEW_SERVICES / REVIEW_SERVICES held
for the order's community; a provider's staff (RUN_PROVIDER) their provider's; a caregiver their
own records. Missing and not yours both give 404."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from sanshe.accounts.access import capability_scope, community_ids_in_scope
from sanshe.accounts.models import Capability
from sanshe.catalog.access import caregiver_of, provider_ids_of
from sanshe.core.lookups import get_or_404
from sanshe.orders.access import service_scope_q
from sanshe.orders.flags import PROVIDER_CLEARABLE
from sanshe.orders.models import (
    Alert,
    CarePlan,
    CarePlanStatus,
    Complaint,
    HomeCareBed,
    HomeCareBedStatus,
    ServiceOrder,
    ServiceRecord,
)

RECORD_NOT_FOUND = "没有找到该服务记录"
ALERT_NOT_FOUND = "没有找到该预警"
BED_NOT_FOUND = "没有找到该家庭养老床位"
ORDER_NOT_FOUND = "没有找到该工单"
COMPLAINT_NOT_FOUND = "没有找到该投诉"


def _region_ids(user: Any) -> set[int]:
    return set(community_ids_in_scope(user, Capability.VIEW_SERVICES)) | set(
        community_ids_in_scope(user, Capability.REVIEW_SERVICES))



def visible_records(user: Any) -> QuerySet[ServiceRecord]:
    """Service records the user may read."""
    return ServiceRecord.objects.filter(
        service_scope_q(user, _region_ids(user), region_field="order__community_id", caregiver_field="caregiver"))


def access_record(user: Any, record_id: Any) -> ServiceRecord:
    related = visible_records(user).select_related("order__community", "person", "caregiver", "item", "provider")
    return get_or_404(related, record_id, RECORD_NOT_FOUND)


def can_review(user: Any, record: ServiceRecord) -> bool:
    """REVIEW_SERVICES for the order's community clears any flag; the provider's manager clears
    only location flags (PROVIDER_CLEARABLE)."""
    if capability_scope(user, Capability.REVIEW_SERVICES).covers(record.order.community.code):
        return True
    return record.provider_id in provider_ids_of(user) and set(record.flags) <= PROVIDER_CLEARABLE


def caregiver_orders(user: Any) -> QuerySet[ServiceOrder]:
    """The signed-in caregiver's own orders (none for anyone else)."""
    caregiver = caregiver_of(user)
    if caregiver is None:
        return ServiceOrder.objects.none()
    return ServiceOrder.objects.filter(caregiver=caregiver)


def access_caregiver_order(user: Any, order_id: Any) -> ServiceOrder:
    related = caregiver_orders(user).select_related("person", "item", "caregiver", "provider", "community")
    return get_or_404(related, order_id, ORDER_NOT_FOUND)


def visible_alerts(user: Any) -> QuerySet[Alert]:
    """Alerts for the provider's staff and for the community (and the street and district above)."""
    return Alert.objects.filter(service_scope_q(user, _region_ids(user), region_field="community_id"))


def access_alert(user: Any, alert_id: Any) -> Alert:
    related = visible_alerts(user).select_related("community", "person", "provider", "order")
    return get_or_404(related, alert_id, ALERT_NOT_FOUND)


def can_resolve_alert(user: Any, alert: Alert) -> bool:
    if capability_scope(user, Capability.REVIEW_SERVICES).covers(alert.community.code):
        return True
    return alert.provider_id is not None and alert.provider_id in provider_ids_of(user)


def visible_beds(user: Any) -> QuerySet[HomeCareBed]:
    return HomeCareBed.objects.filter(service_scope_q(user, _region_ids(user), region_field="person__residence_region_id"))


def access_bed(user: Any, bed_id: Any) -> HomeCareBed:
    related = visible_beds(user).select_related("person__residence_region", "provider", "assessment", "care_plan")
    return get_or_404(related, bed_id, BED_NOT_FOUND)


def can_manage_bed(user: Any, bed: HomeCareBed) -> bool:
    """The bed's provider runs it; the community's care-plan makers may too."""
    if bed.provider_id in provider_ids_of(user):
        return True
    return capability_scope(user, Capability.MANAGE_CARE_PLANS).covers(bed.person.residence_region.code)


def bed_plan_candidates(user: Any) -> QuerySet[CarePlan]:
    """Active care plans the user may open a home care bed from, whose person has no open bed."""
    q = Q(pk__in=[])
    providers = provider_ids_of(user)
    if providers:
        q |= Q(provider_id__in=providers)
    scope = capability_scope(user, Capability.MANAGE_CARE_PLANS)
    if scope:
        q |= Q(person__residence_region_id__in=community_ids_in_scope(user, Capability.MANAGE_CARE_PLANS))
    open_beds = HomeCareBed.objects.exclude(status=HomeCareBedStatus.CLOSED).values("person_id")
    return CarePlan.objects.filter(q, status=CarePlanStatus.ACTIVE).exclude(person_id__in=open_beds)


def visible_complaints(user: Any) -> QuerySet[Complaint]:
    """Complaints about orders of the user's area or provider."""
    return Complaint.objects.filter(service_scope_q(user, _region_ids(user), region_field="order__community_id",
                                                    provider_field="order__provider_id"))


def access_complaint(user: Any, complaint_id: Any) -> Complaint:
    related = visible_complaints(user).select_related("order__community", "order__person", "order__item")
    return get_or_404(related, complaint_id, COMPLAINT_NOT_FOUND)


def can_handle_complaint(user: Any, complaint: Complaint) -> bool:
    if capability_scope(user, Capability.REVIEW_SERVICES).covers(complaint.order.community.code):
        return True
    return complaint.order.provider_id is not None and complaint.order.provider_id in provider_ids_of(user)
