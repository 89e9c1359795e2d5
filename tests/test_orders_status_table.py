"""The order status table, exhaustively: every (from, to) pair of OrderStatus × OrderStatus, with
and without a reason, is either allowed by TRANSITIONS or refused with a Chinese message and
nothing changed. Then the same rule through the role-limited change on the pages and the API."""

from __future__ import annotations

import re

import pytest

from sanshe.core.errors import UserError
from sanshe.orders.actions import change_order_status, transition_order
from sanshe.orders.models import TRANSITIONS, OrderEvent, OrderStatus, ServiceOrder
from tests.factories import client_for
from tests.service_factories import ServiceWorld
from tests.test_orders_builders import api_client, clock, make_order

pytestmark = pytest.mark.django_db
__all__ = ["clock"]
S = OrderStatus
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def test_the_table_names_every_status() -> None:
    assert set(TRANSITIONS) == set(S.values)
    assert all(set(targets) <= set(S.values) for targets in TRANSITIONS.values())


@pytest.mark.parametrize("from_status", S.values)
def test_every_pair_from_a_status_is_allowed_by_the_table_or_refused_unchanged(
        world: ServiceWorld, clock: object, from_status: str) -> None:
    for to_status in S.values:
        for reason in ("", "家属临时有事"):
            order = make_order(world, status=from_status, caregiver=world.near)
            events = OrderEvent.objects.filter(order=order).count()
            allowed = to_status in TRANSITIONS[from_status]
            needs_reason = TRANSITIONS[from_status].get(to_status, False)
            if allowed and (reason or not needs_reason):
                done = transition_order(order, to_status, acting_user=world.p.operator, reason=reason)
                assert done.status == to_status, (from_status, to_status)
                event = OrderEvent.objects.filter(order=order).last()
                assert event is not None
                assert (event.from_status, event.to_status, event.reason) == (from_status, to_status, reason)
                assert OrderEvent.objects.filter(order=order).count() == events + 1
            else:
                with pytest.raises(UserError) as caught:
                    transition_order(order, to_status, acting_user=world.p.operator, reason=reason)
                assert CHINESE.search(caught.value.message), caught.value.message
                assert ("原因" in caught.value.message) is (allowed and needs_reason)
                fresh = ServiceOrder.objects.get(pk=order.pk)
                assert (fresh.status, fresh.caregiver_id) == (from_status, world.near.pk), (from_status, to_status)
                assert OrderEvent.objects.filter(order=order).count() == events


def test_going_back_to_requested_clears_the_caregiver(world: ServiceWorld, clock: object) -> None:
    order = make_order(world, status=S.ASSIGNED, caregiver=world.near)
    transition_order(order, S.REQUESTED, acting_user=world.p.operator, reason="护理员请假")
    order.refresh_from_db()
    assert order.caregiver is None
    assert order.assignment == {}


@pytest.mark.parametrize(("who", "from_status", "to_status", "reason", "ok"), [
    ("community_worker", S.REQUESTED, S.CANCELLED, "老人住院", True),
    ("community_worker", S.REQUESTED, S.CANCELLED, "", False),  # a cancellation needs a reason
    ("community_worker", S.ACCEPTED, S.NO_SHOW, "未上门", False),  # not a community worker's step
    ("operator", S.ACCEPTED, S.NO_SHOW, "护理员未到", True),
    ("operator", S.ASSIGNED, S.REQUESTED, "改派", True),
    ("manager", S.ASSIGNED, S.ACCEPTED, "", True),
    ("manager", S.IN_SERVICE, S.DONE, "", False),  # check-out belongs to the visit
    ("near", S.ASSIGNED, S.ACCEPTED, "", True),
    ("near", S.ASSIGNED, S.CANCELLED, "不想去", False),
    ("community_worker", S.DONE, S.DISPUTED, "老人说没来", True),
    ("community_worker", S.DONE, S.CONFIRMED, "", False),  # the elder confirms through delivery
    ("community_worker", S.DISPUTED, S.CONFIRMED, "核实已服务", True),
    ("auditor", S.REQUESTED, S.CANCELLED, "x", False),
])
def test_each_role_moves_an_order_only_along_its_own_steps(world: ServiceWorld, clock: object, who: str,
                                                          from_status: str, to_status: str, reason: str,
                                                          ok: bool) -> None:
    order = make_order(world, status=from_status, caregiver=world.near)
    user = world.manager if who == "manager" else (world.near.user if who == "near" else getattr(world.p, who))
    events = order.events.count()
    if ok:
        assert change_order_status(order, to_status, reason=reason, acting_user=user).status == to_status
    else:
        with pytest.raises(UserError) as caught:
            change_order_status(order, to_status, reason=reason, acting_user=user)
        assert CHINESE.search(caught.value.message)
        assert ServiceOrder.objects.get(pk=order.pk).status == from_status
        assert order.events.count() == events


def test_the_order_page_offers_only_the_users_moves_and_refuses_others(world: ServiceWorld, clock: object) -> None:
    order = make_order(world, status=S.ACCEPTED, caregiver=world.near)
    page = client_for(world.p.community_worker).get(f"/orders/{order.pk}/").content.decode()
    assert 'value="cancelled"' in page
    assert 'value="no_show"' not in page
    refused = client_for(world.p.community_worker).post(f"/orders/{order.pk}/transition/",
                                                        {"to_status": "no_show", "reason": "x"})
    assert refused.status_code == 400
    assert "您不能将工单变为“未服务”" in refused.content.decode()
    assert ServiceOrder.objects.get(pk=order.pk).status == S.ACCEPTED
    done = client_for(world.p.community_worker).post(f"/orders/{order.pk}/transition/",
                                                     {"to_status": "cancelled", "reason": "老人住院"})
    assert done.status_code == 302
    assert ServiceOrder.objects.get(pk=order.pk).status == S.CANCELLED
    assert client_for(world.p.auditor).post(f"/orders/{order.pk}/transition/",
                                            {"to_status": "cancelled", "reason": "x"}).status_code == 403
    assert client_for(world.p.neighbour_worker).post(f"/orders/{order.pk}/transition/",
                                                     {"to_status": "cancelled", "reason": "x"}).status_code == 404


def test_the_api_cancels_and_transitions_by_the_same_rules(world: ServiceWorld, clock: object) -> None:
    order = make_order(world, status=S.ASSIGNED, caregiver=world.near)
    c = api_client(world.manager)
    missing = c.post(f"/api/v1/orders/{order.pk}/cancel", {"reason": ""}, content_type="application/json")
    assert missing.status_code == 400
    assert "须填写原因" in missing.json()["detail"]
    assert ServiceOrder.objects.get(pk=order.pk).status == S.ASSIGNED
    accepted = c.post(f"/api/v1/orders/{order.pk}/transition", {"to_status": "accepted"},
                      content_type="application/json")
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "accepted"
    assert {m["to_status"] for m in accepted.json()["allowed"]} == {"on_the_way", "requested", "cancelled",
                                                                    "no_show"}
    wrong = c.post(f"/api/v1/orders/{order.pk}/transition", {"to_status": "done"}, content_type="application/json")
    assert wrong.status_code == 400
    assert ServiceOrder.objects.get(pk=order.pk).status == S.ACCEPTED
    cancelled = c.post(f"/api/v1/orders/{order.pk}/cancel", {"reason": "老人外出"}, content_type="application/json")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["events"][-1]["reason"] == "老人外出"


def test_cancelling_withdraws_the_offers_still_open(world: ServiceWorld, clock: object) -> None:
    from sanshe.orders.actions import cancel_order
    from sanshe.orders.models import OfferResponse, OrderOffer

    order = make_order(world)
    open_offer = OrderOffer.objects.create(order=order, caregiver=world.near)
    declined = OrderOffer.objects.create(order=order, caregiver=world.far, response=OfferResponse.DECLINED)
    cancel_order(order, reason="老人取消", acting_user=world.p.community_worker)
    assert OrderOffer.objects.get(pk=open_offer.pk).response == OfferResponse.WITHDRAWN
    assert OrderOffer.objects.get(pk=declined.pk).response == OfferResponse.DECLINED
