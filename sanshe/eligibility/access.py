"""Who may read and write what in eligibility: policies and funds, monthly runs and their rows,
applications, approval batches and objections. Scoped querysets (`visible_*`), checked fetches
(`access_*`; missing and not yours both 404) and yes/no questions (`can_*`). Pages, the API,
authoring and approvals all ask here; the approval chain's own step rules (who decides which step)
stay in eligibility.approvals."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q, QuerySet

from sanshe.accounts.access import capability_scope, has_capability
from sanshe.accounts.models import Capability, Region, RegionLevel
from sanshe.core.lookups import get_or_404
from sanshe.eligibility.models import (
    Application,
    ApprovalBatch,
    Entitlement,
    EntitlementRun,
    Fund,
    NoticeObjection,
    Policy,
)
from sanshe.people.access import access_person
from sanshe.people.models import Person

M = TypeVar("M", bound=Model)

POLICY_NOT_FOUND = "没有找到该政策"
RUN_NOT_FOUND = "没有找到该月度待遇计算"
APPLICATION_NOT_FOUND = "没有找到该申请"
BATCH_NOT_FOUND = "没有找到该审批批次"
OBJECTION_NOT_FOUND = "没有找到该异议"




# --- districts ------------------------------------------------------------------------------------


def _prefixes(user: Any, *capabilities: Capability) -> set[str]:
    return {p for c in capabilities for p in capability_scope(user, c).prefixes}


def _district_q(prefixes: Iterable[str], field: str = "district__code") -> Q:
    """Districts a scope reaches: a street or community scope reaches the district it lies in (its
    policies apply to its people); a district or wider scope reaches the districts under it."""
    q = Q(pk__in=[])
    for prefix in prefixes:
        if len(prefix) >= 6:
            q |= Q(**{field: prefix[:6].ljust(12, "0")})
        else:
            q |= Q(**{f"{field}__startswith": prefix})
    return q


def _reading_q(user: Any) -> Q:
    return _district_q(_prefixes(user, Capability.VIEW_ENTITLEMENTS, Capability.MANAGE_POLICIES))


def works_in(user: Any, region: Region, *capabilities: Capability) -> bool:
    """Whether the user holds one of the capabilities in the region or anywhere inside it."""
    for capability in capabilities:
        scope = capability_scope(user, capability)
        if scope.covers(region.code) or any(p.startswith(region.prefix) for p in scope.prefixes):
            return True
    return False


def managed_districts(user: Any) -> QuerySet[Region]:
    """Districts whose policies, funds and runs the user manages (a district membership or above)."""
    scope = capability_scope(user, Capability.MANAGE_POLICIES)
    return Region.objects.filter(scope.region_q(), level=RegionLevel.DISTRICT).order_by("code")


def can_manage(user: Any, district: Region) -> bool:
    """Writing a district's policies and funds, running its months and setting its notice period is
    for the district's civil-affairs bureau."""
    return capability_scope(user, Capability.MANAGE_POLICIES).covers(district.code)


# --- policies, funds and runs ---------------------------------------------------------------------


def can_read_policies(user: Any) -> bool:
    """Whether the user reads some district's policies, funds and monthly runs (their own rows are
    a further right, VIEW_ENTITLEMENTS)."""
    return has_capability(user, Capability.VIEW_ENTITLEMENTS) or has_capability(user, Capability.MANAGE_POLICIES)


def visible_policies(user: Any) -> QuerySet[Policy]:
    """Policies of the districts where the user sees entitlements or manages policies."""
    return Policy.objects.filter(_reading_q(user))


def access_policy(user: Any, policy_id: Any, *, for_write: bool = False) -> Policy:
    """A policy the user may read (or, with for_write, change); missing and not yours both 404,
    readable but not writable is 403."""
    policy = get_or_404(visible_policies(user).select_related("district", "fund", "created_by"), policy_id,
                  POLICY_NOT_FOUND)
    if for_write and not can_manage(user, policy.district):
        raise PermissionDenied("您没有维护补贴政策的权限")
    return policy


def visible_funds(user: Any) -> QuerySet[Fund]:
    """Funds of the districts whose policies the user reads."""
    return Fund.objects.filter(_reading_q(user))


def visible_runs(user: Any) -> QuerySet[EntitlementRun]:
    """Runs of the districts whose policies the user reads."""
    return EntitlementRun.objects.filter(_reading_q(user))


def access_run(user: Any, run_id: Any) -> EntitlementRun:
    """A run the user may see; missing and not yours both 404."""
    return get_or_404(visible_runs(user).select_related("district", "started_by"), run_id, RUN_NOT_FOUND)


def covers_district(user: Any, district: Region) -> bool:
    """Whether the user sees every row of the district (no region filter needed)."""
    return capability_scope(user, Capability.VIEW_ENTITLEMENTS).covers(district.code)


def scoped(user: Any, rows: QuerySet[Entitlement]) -> QuerySet[Entitlement]:
    """Only rows of people living in the user's regions (a street officer sees their street)."""
    return rows.filter(capability_scope(user, Capability.VIEW_ENTITLEMENTS).region_q("person__residence_region__code"))


# --- applications ---------------------------------------------------------------------------------


def can_read_applications(user: Any) -> bool:
    return has_capability(user, Capability.APPLY_ENTITLEMENT) or has_capability(user, Capability.VIEW_ENTITLEMENTS)


def visible_applications(user: Any) -> QuerySet[Application]:
    """Applications of people living where the user accepts applications or sees entitlements."""
    q = (capability_scope(user, Capability.APPLY_ENTITLEMENT).region_q("person__residence_region__code")
         | capability_scope(user, Capability.VIEW_ENTITLEMENTS).region_q("person__residence_region__code"))
    return Application.objects.filter(q)


def application_policies(user: Any) -> QuerySet[Policy]:
    """Policies of the districts where the user accepts applications or sees entitlements (what the
    application list can be filtered by)."""
    return Policy.objects.filter(_district_q(_prefixes(user, Capability.APPLY_ENTITLEMENT,
                                                       Capability.VIEW_ENTITLEMENTS)))


def access_application(user: Any, application_id: Any) -> Application:
    """An application the user may see; missing and not yours both 404."""
    qs = visible_applications(user).select_related("person__residence_region__parent", "policy__fund",
                                                   "recorded_by", "entitlement__batch")
    return get_or_404(qs, application_id, APPLICATION_NOT_FOUND)


def can_apply(user: Any, person: Person) -> bool:
    return capability_scope(user, Capability.APPLY_ENTITLEMENT).covers(person.residence_region.code)


def access_applicant(user: Any, person_id: Any) -> Person:
    """A person the user may record an application for (404 outside their files, 403 without the right)."""
    person = access_person(user, person_id)
    if not can_apply(user, person):
        raise PermissionDenied("您没有为该老人受理待遇申请的权限")
    return person


# --- approval batches -----------------------------------------------------------------------------


def can_read_batches(user: Any) -> bool:
    return has_capability(user, Capability.VIEW_ENTITLEMENTS) or has_capability(user, Capability.APPROVE_ENTITLEMENTS)


def visible_batches(user: Any) -> QuerySet[ApprovalBatch]:
    """Batches of the communities where the user views or approves entitlements."""
    q = (capability_scope(user, Capability.VIEW_ENTITLEMENTS).region_q("community__code")
         | capability_scope(user, Capability.APPROVE_ENTITLEMENTS).region_q("community__code"))
    return ApprovalBatch.objects.filter(q)


def access_batch(user: Any, batch_id: Any) -> ApprovalBatch:
    """A batch the user may see; missing and out of scope both 404."""
    qs = visible_batches(user).select_related("community__parent", "district", "maker", "activated_by", "run")
    return get_or_404(qs, batch_id, BATCH_NOT_FOUND)


def access_objection(user: Any, objection_id: Any) -> NoticeObjection:
    """An objection to a batch the user may see; missing and out of scope both 404."""
    qs = NoticeObjection.objects.filter(batch__in=visible_batches(user)).select_related(
        "batch__community__parent", "batch__district", "entitlement")
    return get_or_404(qs, objection_id, OBJECTION_NOT_FOUND)
