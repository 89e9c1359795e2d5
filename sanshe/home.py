"""The home page: what each role sees first. It reads several apps, so it lives above them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from sanshe.accounts.access import (
    capability_scope,
    has_capability,
    home_role,
    visible_organizations,
    visible_regions,
    visible_users,
)
from sanshe.accounts.http import AuthedRequest
from sanshe.accounts.models import Capability, Membership, Role
from sanshe.assessments.access import agency_ids, visible_assessments
from sanshe.assessments.models import AssessmentStatus
from sanshe.catalog.access import caregiver_of, provider_ids_of
from sanshe.core.models import AuditAction, AuditEvent
from sanshe.dispatch.access import visible_offers
from sanshe.lib.dates import birth_date_bounds_for_age
from sanshe.orders.access import visible_orders
from sanshe.orders.models import OPEN_STATUSES, OfferResponse, OrderStatus, ReviewStatus
from sanshe.orders.record_access import caregiver_orders, visible_alerts, visible_records
from sanshe.people.access import visible_people
from sanshe.people.models import PersonChange


def _people_stats(user: Any) -> dict[str, Any]:
    """Counts for the home page, cached briefly per scope (a district-wide scan is not free)."""
    scope = capability_scope(user, Capability.VIEW_PEOPLE)
    key = "home-stats:" + ",".join(scope.prefixes)
    stats: dict[str, Any] | None = cache.get(key)
    if stats is None:
        today = timezone.localdate()
        _, born_by_80 = birth_date_bounds_for_age(80, None, today)
        stats = visible_people(user).aggregate(
            total=Count("id", filter=~Q(status__in=["deceased", "moved_away"])),
            alone=Count("id", filter=Q(living_arrangement="alone", status="active")),
            over80=Count("id", filter=Q(birth_date__lte=born_by_80, status="active")),
            assisted=Count("id", filter=Q(economic_status__in=["dibao", "tekun", "three_no"], status="active")),
            hospitalised=Count("id", filter=Q(status="hospitalised")),
            disabled=Count("id", filter=~Q(disability_category="") & Q(status="active")),
        )
        cache.set(key, stats, 300)
    return stats


def _service_stats(user: Any) -> dict[str, Any] | None:
    """Today's service work for whoever takes part in it: a caregiver's visits and offers, a
    provider's or a community's open orders, records waiting for review and open alerts."""
    caregiver = caregiver_of(user)
    sees_services = bool(provider_ids_of(user)) or has_capability(user, Capability.VIEW_SERVICES)
    unlinked = caregiver is None and bool(provider_ids_of(user, Capability.DELIVER_SERVICE))
    if caregiver is None and not sees_services and not unlinked:
        return None
    today = timezone.localdate()
    stats: dict[str, Any] = {"caregiver": caregiver is not None, "overview": sees_services, "unlinked": unlinked}
    if caregiver is not None:
        mine = caregiver_orders(user).filter(window_start__date=today)
        stats["my_today"] = mine.count()
        stats["my_open"] = mine.filter(status__in=OPEN_STATUSES).count()
        stats["my_offers"] = visible_offers(user).filter(response=OfferResponse.OPEN).count()
    if sees_services:
        orders = visible_orders(user)
        stats["today"] = orders.filter(window_start__date=today).count()
        stats["unassigned"] = orders.filter(status=OrderStatus.REQUESTED, window_start__date__lte=today
                                            + dt.timedelta(days=1)).count()
        stats["to_review"] = visible_records(user).filter(review_status=ReviewStatus.PENDING).count()
        stats["alerts"] = visible_alerts(user).filter(resolved_at=None).count()
    return stats


def home(request: AuthedRequest) -> HttpResponse:
    user = request.user
    role = home_role(user)
    context: dict[str, Any] = {
        "role": role,
        "role_label": Role(role).label if role else "",
        "memberships": Membership.objects.filter(user=user, is_active=True).select_related("organization__region"),
    }
    if has_capability(user, Capability.VIEW_PEOPLE):
        context["stats"] = _people_stats(user)
        context["recent_changes"] = (
            PersonChange.objects.filter(person__in=visible_people(user))
            .select_related("person").order_by("-at")[:8]
        )
    managed = agency_ids(user, Capability.MANAGE_AGENCY_ASSESSMENTS)
    performing = agency_ids(user, Capability.PERFORM_ASSESSMENT)
    if managed or performing:
        mine = visible_assessments(user)
        context["assessment_stats"] = {
            "to_schedule": mine.filter(agency_id__in=managed, status=AssessmentStatus.ASSIGNED).count(),
            "to_review": mine.filter(agency_id__in=managed, status=AssessmentStatus.SUBMITTED).count(),
            "my_visits": mine.filter(status__in=[AssessmentStatus.SCHEDULED, AssessmentStatus.IN_PROGRESS])
            .filter(Q(assessor_1=user) | Q(assessor_2=user)).count(),
            "manages": bool(managed), "performs": bool(performing),
        }
    context["service_stats"] = _service_stats(user)
    if has_capability(user, Capability.MANAGE_ACCOUNTS):
        context["account_stats"] = {
            "regions": visible_regions(user, Capability.MANAGE_REGIONS).count(),
            "organizations": visible_organizations(user).count(),
            "users": visible_users(user).count(),
            "locked": visible_users(user).filter(locked_until__gt=timezone.now()).count(),
        }
    if has_capability(user, Capability.VIEW_AUDIT):
        context["recent_audit"] = AuditEvent.objects.filter(
            action__in=[AuditAction.REVEAL_ID, AuditAction.EXPORT_PEOPLE, AuditAction.ACCOUNT_LOCKED]
        )[:8]
    return render(request, "home.html", context)
