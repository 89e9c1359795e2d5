"""Checked access to care plans and service orders. Region staff see what lies in their scope
(VIEW_SERVICES by the order's community or the person's community), an operator (DISPATCH_ORDERS)
the whole district, provider staff (RUN_PROVIDER) their provider's plans and orders, and a
caregiver (DELIVER_SERVICE) only the orders assigned to them. Missing and not yours both 404."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from sanshe.accounts.access import capability_scope, community_ids_in_scope, has_capability
from sanshe.accounts.models import Capability
from sanshe.catalog.access import caregiver_of, provider_ids_of
from sanshe.core.lookups import pk_or_404
from sanshe.orders.models import OPEN_STATUSES, TRANSITIONS, CarePlan, OrderStatus, ServiceOrder
from sanshe.people.models import Person

ORDER_NOT_FOUND = "没有找到该工单"
PLAN_NOT_FOUND = "没有找到该照护方案"
C = Capability
S = OrderStatus



def _region_ids(user: Any) -> set[int]:
    return set(community_ids_in_scope(user, C.VIEW_SERVICES)) | set(community_ids_in_scope(user, C.DISPATCH_ORDERS))


def service_scope_q(user: Any, regions: set[int], *, region_field: str, provider_field: str = "provider_id",
                    caregiver_field: str = "") -> Q:
    """Rows of the user's communities, of the user's provider and (when `caregiver_field` is given)
    of the signed-in caregiver; nothing for anyone else."""
    q = Q(pk__in=[])
    if regions:
        q |= Q(**{f"{region_field}__in": regions})
    providers = provider_ids_of(user)
    if providers:
        q |= Q(**{f"{provider_field}__in": providers})
    caregiver = caregiver_of(user) if caregiver_field else None
    if caregiver is not None:
        q |= Q(**{caregiver_field: caregiver})
    return q


def visible_orders(user: Any) -> QuerySet[ServiceOrder]:
    """Orders the user may see: by region, by provider, or assigned to them as a caregiver."""
    return ServiceOrder.objects.filter(
        service_scope_q(user, _region_ids(user), region_field="community_id", caregiver_field="caregiver"))


def access_order(user: Any, order_id: Any, *, for_write: bool = False) -> ServiceOrder:
    """An order the user may see (and with for_write, act on); missing and not yours both 404."""
    pk = pk_or_404(order_id, ORDER_NOT_FOUND)
    order = (visible_orders(user).select_related("person__residence_region__parent", "item", "provider", "caregiver",
                                                 "community", "plan_item__plan").filter(pk=pk).first())
    if order is None:
        raise Http404(ORDER_NOT_FOUND)
    if for_write and not order_targets(user, order):
        raise PermissionDenied("您没有处理该工单的权限")
    return order


# What each kind of worker may move an order to through the order pages and the API. Assignment
# (dispatch) and check-in/check-out (delivery) have their own actions and are never set here.
COMMUNITY_TARGETS = frozenset({S.CANCELLED})
REVIEWER_TARGETS = frozenset({S.CANCELLED, S.DISPUTED, S.CONFIRMED})
DISPATCHER_TARGETS = frozenset({S.REQUESTED, S.CANCELLED, S.NO_SHOW})
PROVIDER_TARGETS = frozenset({S.REQUESTED, S.ACCEPTED, S.ON_THE_WAY, S.CANCELLED, S.NO_SHOW})
CAREGIVER_TARGETS = frozenset({S.ACCEPTED, S.ON_THE_WAY, S.REQUESTED})


def order_targets(user: Any, order: ServiceOrder) -> set[str]:
    """Statuses this user may set on this order by role, before the status table is applied."""
    targets: set[str] = set()
    code = order.community.code
    if capability_scope(user, C.REQUEST_SERVICE).covers(code):
        targets |= COMMUNITY_TARGETS
    if capability_scope(user, C.REVIEW_SERVICES).covers(code):
        # Review settles disputes; confirming a finished visit is the elder's (delivery) step.
        targets |= {S.CANCELLED, S.DISPUTED} if order.status == S.DONE else REVIEWER_TARGETS
    if capability_scope(user, C.DISPATCH_ORDERS).covers(code):
        targets |= DISPATCHER_TARGETS
    if order.provider_id is not None and order.provider_id in provider_ids_of(user):
        targets |= PROVIDER_TARGETS
    caregiver = caregiver_of(user)
    if caregiver is not None and order.caregiver_id == caregiver.pk:
        targets |= CAREGIVER_TARGETS
    return targets


def visible_care_plans(user: Any) -> QuerySet[CarePlan]:
    """Plans of people in the user's service scope, and the plans of the user's own provider."""
    return CarePlan.objects.filter(service_scope_q(user, _region_ids(user), region_field="person__residence_region_id"))


def can_manage_plan_as_community(user: Any, plan: CarePlan) -> bool:
    return capability_scope(user, C.MANAGE_CARE_PLANS).covers(plan.person.residence_region.code)


def can_manage_plan_as_provider(user: Any, plan: CarePlan) -> bool:
    return plan.provider_id in provider_ids_of(user)


def can_edit_plan(user: Any, plan: CarePlan) -> bool:
    return can_manage_plan_as_community(user, plan) or can_manage_plan_as_provider(user, plan)


def access_care_plan(user: Any, plan_id: Any, *, for_write: bool = False) -> CarePlan:
    """A plan the user may see (and with for_write, change or sign); missing and not yours both 404."""
    pk = pk_or_404(plan_id, PLAN_NOT_FOUND)
    plan = (visible_care_plans(user).select_related("person__residence_region__parent", "provider", "assessment",
                                                    "created_by", "previous").filter(pk=pk).first())
    if plan is None:
        raise Http404(PLAN_NOT_FOUND)
    if for_write and not can_edit_plan(user, plan):
        raise PermissionDenied("您没有修改或签署该照护方案的权限")
    return plan


def can_draft_plan_for(user: Any, person: Person) -> bool:
    return capability_scope(user, C.MANAGE_CARE_PLANS).covers(person.residence_region.code)


def can_request_for(user: Any, person: Person) -> bool:
    """Community workers and operators record requests for people of their scope."""
    return capability_scope(user, C.REQUEST_SERVICE).covers(person.residence_region.code)


def filter_orders(user: Any, *, status: str = "", date_from: dt.date | None = None, date_to: dt.date | None = None,
                  item_id: int | None = None, community_id: int | None = None, provider_id: int | None = None,
                  urgent: bool | None = None, person_id: int | None = None) -> QuerySet[ServiceOrder]:
    """The user's visible orders narrowed by the list filters (dates are local days, inclusive)."""
    qs = visible_orders(user)
    if status == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif status:
        qs = qs.filter(status=status)
    if date_from is not None:
        qs = qs.filter(window_start__gte=timezone.make_aware(dt.datetime.combine(date_from, dt.time.min)))
    if date_to is not None:
        qs = qs.filter(window_start__lt=timezone.make_aware(dt.datetime.combine(date_to + dt.timedelta(days=1),
                                                                                dt.time.min)))
    if item_id:
        qs = qs.filter(item_id=item_id)
    if community_id:
        qs = qs.filter(community_id=community_id)
    if provider_id:
        qs = qs.filter(provider_id=provider_id)
    if urgent is not None:
        qs = qs.filter(urgent=urgent)
    if person_id:
        qs = qs.filter(person_id=person_id)
    return qs


def may_list_orders(user: Any) -> bool:
    return (has_capability(user, Capability.VIEW_SERVICES) or has_capability(user, Capability.DISPATCH_ORDERS)
            or bool(provider_ids_of(user)) or caregiver_of(user) is not None)


def allowed_moves(user: Any, order: ServiceOrder) -> list[dict[str, Any]]:
    """The status changes this user may make on this order now, with whether a reason is needed."""
    targets = order_targets(user, order)
    return [{"to": to, "label": OrderStatus(to).label, "needs_reason": needs}
            for to, needs in TRANSITIONS.get(order.status, {}).items() if to in targets and to != order.status]
