"""Who may dispatch what: an operator (DISPATCH_ORDERS) the orders of the communities in scope,
a provider manager (RUN_PROVIDER) their own provider's orders and caregivers, a caregiver only
their own offers. Built on orders.access; missing and not yours both 404."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from sanshe.accounts.access import capability_scope, community_ids_in_scope
from sanshe.accounts.models import Capability
from sanshe.catalog.access import caregiver_of, provider_ids_of
from sanshe.catalog.models import Caregiver
from sanshe.core.lookups import pk_or_404
from sanshe.orders.access import ORDER_NOT_FOUND, visible_orders
from sanshe.orders.models import OrderOffer, ServiceOrder
from sanshe.people.access import visible_people
from sanshe.people.models import Person

C = Capability



def can_dispatch(user: Any) -> bool:
    return bool(capability_scope(user, C.DISPATCH_ORDERS)) or bool(provider_ids_of(user))


def require_dispatcher(user: Any) -> None:
    if not can_dispatch(user):
        raise PermissionDenied("您没有派单调度的权限")


def dispatchable_orders(user: Any) -> QuerySet[ServiceOrder]:
    """Orders the user may dispatch: by community for operators, by provider for provider staff."""
    q = Q(pk__in=[])
    regions = community_ids_in_scope(user, C.DISPATCH_ORDERS)
    if regions:
        q |= Q(community_id__in=regions)
    providers = provider_ids_of(user)
    if providers:
        q |= Q(provider_id__in=providers)
    return visible_orders(user).filter(q)


def access_dispatch_order(user: Any, order_id: Any) -> ServiceOrder:
    """An order the user may dispatch; missing and not yours both 404."""
    require_dispatcher(user)
    pk = pk_or_404(order_id, ORDER_NOT_FOUND)
    order = (dispatchable_orders(user).select_related("person", "item", "provider", "caregiver", "community",
                                                      "plan_item").filter(pk=pk).first())
    if order is None:
        raise Http404(ORDER_NOT_FOUND)
    return order


def pickable_caregivers(user: Any, order: ServiceOrder) -> QuerySet[Caregiver]:
    """Caregivers the user may name for the order: an operator any provider's in scope (another
    provider's is then refused by assign_order with its reason), provider staff only their own."""
    caregivers = Caregiver.objects.filter(is_active=True).select_related("provider")
    own = Q(provider_id__in=provider_ids_of(user))
    scope = capability_scope(user, C.DISPATCH_ORDERS)
    if scope.covers(order.community.code):
        return caregivers.filter(scope.region_q("provider__region__code") | own)
    return caregivers.filter(own)


def access_pickable_caregiver(user: Any, order: ServiceOrder, caregiver_id: Any) -> Caregiver:
    pk = pk_or_404(caregiver_id, "没有找到该护理员")
    caregiver = pickable_caregivers(user, order).filter(pk=pk).first()
    if caregiver is None:
        raise Http404("没有找到该护理员")
    return caregiver


def visible_offers(user: Any) -> QuerySet[OrderOffer]:
    """A caregiver's own broadcast offers."""
    caregiver = caregiver_of(user)
    if caregiver is None:
        return OrderOffer.objects.none()
    return OrderOffer.objects.filter(caregiver=caregiver)


def access_offer(user: Any, offer_id: Any) -> OrderOffer:
    pk = pk_or_404(offer_id, "没有找到该抢单邀请")
    offer = visible_offers(user).select_related("order__item", "order__community", "caregiver").filter(pk=pk).first()
    if offer is None:
        raise Http404("没有找到该抢单邀请")
    return offer


def urgent_people(user: Any) -> QuerySet[Person]:
    """People the call centre may place an urgent order for."""
    return visible_people(user, C.DISPATCH_ORDERS)


def access_urgent_person(user: Any, person_id: Any) -> Person:
    if not capability_scope(user, C.DISPATCH_ORDERS):
        raise PermissionDenied("您没有紧急下单的权限")
    pk = pk_or_404(person_id, "没有找到该档案")
    person = urgent_people(user).select_related("residence_region").filter(pk=pk).first()
    if person is None:
        raise Http404("没有找到该档案")
    return person
