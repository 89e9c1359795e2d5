"""Who sees which orders and plans: a persona matrix over visible_orders / access_order and
visible_care_plans / access_care_plan. Denied cases are 404 (missing and not yours alike)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from sanshe.accounts.models import User
from sanshe.orders.access import (
    access_care_plan,
    access_order,
    visible_care_plans,
    visible_orders,
)
from sanshe.orders.models import OrderStatus
from tests.service_factories import ServiceWorld
from tests.test_orders_builders import active_plan, clock, make_order, second_provider

pytestmark = pytest.mark.django_db
__all__ = ["clock"]


def persona(w: ServiceWorld, who: str) -> User:
    if who == "manager":
        return w.manager
    if who == "other_manager":
        return second_provider(w)[1]
    if who in ("near", "far"):
        user = getattr(w, who).user
        assert user is not None
        return user
    return getattr(w.p, who)


ORDER_MATRIX = [
    ("district_officer", True), ("street_officer", True), ("community_worker", True), ("neighbour_worker", False),
    ("social_worker", True), ("operator", True), ("auditor", True), ("manager", True), ("other_manager", False),
    ("near", True), ("far", False), ("caregiver", False), ("outsider", False), ("admin", False),
]


@pytest.mark.parametrize(("who", "sees"), ORDER_MATRIX)
def test_an_order_is_seen_by_its_region_its_provider_and_its_caregiver(world: ServiceWorld, clock: object,
                                                                      who: str, sees: bool) -> None:
    order = make_order(world, status=OrderStatus.ASSIGNED, caregiver=world.near)
    user = persona(world, who)
    assert visible_orders(user).filter(pk=order.pk).exists() is sees
    if sees:
        assert access_order(user, order.pk) == order
    else:
        with pytest.raises(Http404):
            access_order(user, order.pk)


def test_missing_and_malformed_order_ids_are_404(world: ServiceWorld) -> None:
    for value in (999999, "abc", None):
        with pytest.raises(Http404):
            access_order(world.p.district_officer, value)


def test_an_operator_sees_the_whole_district(world: ServiceWorld, clock: object) -> None:
    from tests.factories import make_person

    far_away = make_person(world.d.community_b1, by=world.p.district_officer, name="周老伯")
    order = make_order(world, person=far_away)
    assert access_order(world.p.operator, order.pk) == order
    with pytest.raises(Http404):
        access_order(world.p.community_worker, order.pk)


def test_a_caregiver_sees_only_the_orders_assigned_to_them(world: ServiceWorld, clock: object) -> None:
    mine = make_order(world, status=OrderStatus.ASSIGNED, caregiver=world.near)
    theirs = make_order(world, status=OrderStatus.ASSIGNED, caregiver=world.certified)
    assert list(visible_orders(world.near.user)) == [mine]
    assert theirs not in visible_orders(world.near.user)


def test_an_auditor_reads_orders_but_may_not_act_on_them(world: ServiceWorld, clock: object) -> None:
    order = make_order(world)
    assert access_order(world.p.auditor, order.pk) == order
    with pytest.raises(PermissionDenied):
        access_order(world.p.auditor, order.pk, for_write=True)
    assert access_order(world.p.community_worker, order.pk, for_write=True) == order


PLAN_MATRIX = [
    ("district_officer", True), ("street_officer", True), ("community_worker", True), ("neighbour_worker", False),
    ("social_worker", True), ("operator", True), ("auditor", True), ("manager", True), ("other_manager", False),
    ("near", False), ("caregiver", False), ("outsider", False), ("admin", False),
]


@pytest.mark.parametrize(("who", "sees"), PLAN_MATRIX)
def test_a_plan_is_seen_by_the_persons_region_and_its_provider(world: ServiceWorld, clock: object,
                                                              who: str, sees: bool) -> None:
    plan = active_plan(world)
    user = persona(world, who)
    assert visible_care_plans(user).filter(pk=plan.pk).exists() is sees
    if sees:
        assert access_care_plan(user, plan.pk) == plan
    else:
        with pytest.raises(Http404):
            access_care_plan(user, plan.pk)


@pytest.mark.parametrize(("who", "may_write"), [
    ("community_worker", True), ("manager", True), ("social_worker", True), ("street_officer", True),
    ("auditor", False), ("operator", False),
])
def test_plans_are_changed_by_community_plan_makers_and_the_provider(world: ServiceWorld, clock: object,
                                                                     who: str, may_write: bool) -> None:
    plan = active_plan(world)
    user = persona(world, who)
    if may_write:
        assert access_care_plan(user, plan.pk, for_write=True) == plan
    else:
        with pytest.raises(PermissionDenied):
            access_care_plan(user, plan.pk, for_write=True)
