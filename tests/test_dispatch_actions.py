"""Dispatch actions: automatic assignment, the override rules, broadcast offers and the accept
race, re-dispatch after a decline, the urgent order and the worker command."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from sanshe.core.errors import UserError
from sanshe.dispatch.actions import (
    accept_offer,
    auto_assign,
    broadcast_order,
    decline_offer,
    override_assign,
    place_urgent_order,
)
from sanshe.orders.actions import transition_order
from sanshe.orders.models import OfferResponse, OrderEvent, OrderOffer, OrderStatus, ServiceOrder
from tests.service_factories import BASE_LAT, ServiceWorld, make_caregiver
from tests.test_dispatch_builders import at, booking, order_for


def snapshot(order: ServiceOrder) -> tuple[object, ...]:
    order.refresh_from_db()
    return (order.status, order.caregiver_id, order.provider_id, dict(order.assignment),
            OrderEvent.objects.filter(order=order).count())


def test_auto_assign_gives_the_order_to_the_best_candidate_with_the_reasons(world: ServiceWorld) -> None:
    w = world
    order = order_for(w, w.bath)
    outcome = auto_assign(order, acting_user=w.manager)
    order.refresh_from_db()
    assert order.status == OrderStatus.ASSIGNED
    assert order.caregiver_id == outcome.assigned.caregiver_id if outcome.assigned else False
    assert order.caregiver_id in {w.certified.pk, w.nurse.pk}
    assert order.assignment["by"] == "auto"
    assert "持有养老护理员职业技能等级证书" in order.assignment["lines"]
    assert any("分钟服务圈内" in line for line in order.assignment["lines"])
    event = order.events.order_by("-id").first()
    assert event is not None
    assert event.to_status == OrderStatus.ASSIGNED
    assert event.caregiver_id == order.caregiver_id


def test_auto_assign_refuses_an_order_already_assigned_and_changes_nothing(world: ServiceWorld) -> None:
    w = world
    order = order_for(w, w.meal)
    auto_assign(order, acting_user=w.manager)
    before = snapshot(order)
    with pytest.raises(UserError, match="只有待派单的工单可以自动派单"):
        auto_assign(order, acting_user=w.manager)
    assert snapshot(order) == before


def test_with_nobody_in_the_circle_auto_assign_broadcasts_to_the_near_misses(world: ServiceWorld) -> None:
    w = world
    # The visit is 4.2–4.4 km from the qualified caregivers: about 18 minutes by e-bike.
    order = order_for(w, w.bath, latitude=BASE_LAT + Decimal("0.040"))
    outcome = auto_assign(order, acting_user=None)
    order.refresh_from_db()
    assert outcome.assigned is None
    assert order.status == OrderStatus.REQUESTED
    offered = set(OrderOffer.objects.filter(order=order).values_list("caregiver_id", flat=True))
    # The unqualified caregiver is never offered a bath.
    assert offered == {w.certified.pk, w.nurse.pk}
    assert "广播抢单" in outcome.message


def test_the_override_needs_a_reason(world: ServiceWorld) -> None:
    w = world
    order = order_for(w, w.meal)
    before = snapshot(order)
    with pytest.raises(UserError, match="须填写原因"):
        override_assign(order, w.near, acting_user=w.p.operator, reason="  ")
    assert snapshot(order) == before


def test_the_override_still_refuses_an_unqualified_caregiver_or_another_providers(world: ServiceWorld) -> None:
    w = world
    order = order_for(w, w.bath)
    before = snapshot(order)
    with pytest.raises(UserError, match="没有“养老护理员职业技能等级证书”"):
        override_assign(order, w.near, acting_user=w.p.operator, reason="家属要求")
    stranger = make_caregiver(w.other_provider, "何外援", lat=w.near.home_latitude, lon=w.near.home_longitude)
    meal = order_for(w, w.meal)
    with pytest.raises(UserError, match="不属于承接该工单的服务机构"):
        override_assign(meal, stranger, acting_user=w.p.operator, reason="家属要求")
    assert snapshot(order) == before
    assert meal.status == OrderStatus.REQUESTED
    assert meal.caregiver_id is None


def test_the_override_outside_the_circle_is_allowed_with_a_warning_line(world: ServiceWorld) -> None:
    w = world
    order = order_for(w, w.meal)
    order = override_assign(order, w.far, acting_user=w.p.operator, reason="老人指定马护理，路远也愿意来")
    assert order.status == OrderStatus.ASSIGNED
    assert order.caregiver_id == w.far.pk
    lines = order.assignment["lines"]
    assert order.assignment["by"] == "dispatcher"
    assert lines[0] == "调度员指定：老人指定马护理，路远也愿意来"
    assert lines[1].startswith("⚠ 不符合自动派单条件：距出发地 5.7 公里，电动自行车约")
    assert any(line.startswith("系统推荐为") for line in lines)
    assert order.events.order_by("-id").first().reason == "老人指定马护理，路远也愿意来"  # type: ignore[union-attr]


def test_the_override_reassigns_an_assigned_order(world: ServiceWorld) -> None:
    w = world
    order = order_for(w, w.meal)
    auto_assign(order, acting_user=None)
    order.refresh_from_db()
    other = w.nurse if order.caregiver_id != w.nurse.pk else w.near
    order = override_assign(order, other, acting_user=w.manager, reason="原护理员临时请假")
    assert order.caregiver_id == other.pk
    assert order.status == OrderStatus.ASSIGNED


def test_the_first_accept_wins_and_the_second_is_refused(world: ServiceWorld) -> None:
    w = world
    order = order_for(w, w.bath)
    offers = broadcast_order(order)
    assert len(offers) == 2
    first, second = (OrderOffer.objects.get(order=order, caregiver=c) for c in (w.certified, w.nurse))
    accepted = accept_offer(first, acting_user=w.certified.user)
    assert accepted.status == OrderStatus.ACCEPTED
    assert accepted.caregiver_id == w.certified.pk
    assert accepted.assignment["by"] == "offer"
    second.refresh_from_db()
    assert second.response == OfferResponse.WITHDRAWN
    before = snapshot(order)
    with pytest.raises(UserError, match="不能再接单"):
        accept_offer(second, acting_user=w.nurse.user)
    assert snapshot(order) == before
    first.refresh_from_db()
    assert first.response == OfferResponse.ACCEPTED


def test_an_accept_after_the_dispatcher_assigned_is_refused(world: ServiceWorld) -> None:
    w = world
    order = order_for(w, w.bath)
    broadcast_order(order)
    offer = OrderOffer.objects.get(order=order, caregiver=w.nurse)
    # The dispatcher assigns meanwhile, bypassing the offer withdrawal (as a concurrent request would).
    ServiceOrder.objects.filter(pk=order.pk).update(status=OrderStatus.ASSIGNED, caregiver=w.certified)
    with pytest.raises(UserError, match="已被其他护理员接单或已由调度员派出"):
        accept_offer(offer, acting_user=w.nurse.user)
    order.refresh_from_db()
    assert order.caregiver_id == w.certified.pk


def test_a_declined_offer_stays_declined(world: ServiceWorld) -> None:
    w = world
    order = order_for(w, w.bath)
    broadcast_order(order)
    offer = OrderOffer.objects.get(order=order, caregiver=w.nurse)
    decline_offer(offer, acting_user=w.nurse.user, reason="下午有课")
    offer.refresh_from_db()
    assert offer.response == OfferResponse.DECLINED
    assert offer.reason == "下午有课"
    with pytest.raises(UserError):
        accept_offer(offer, acting_user=w.nurse.user)
    # A second broadcast does not offer it again to those already asked.
    assert broadcast_order(order) == []


def test_after_a_caregiver_declines_the_worker_gives_the_order_to_someone_else(world: ServiceWorld) -> None:
    w = world
    with time_machine.travel(at(6), tick=False):
        order = order_for(w, w.bath)
        auto_assign(order, acting_user=None)
        order.refresh_from_db()
        first = order.caregiver
        assert first is not None
        transition_order(order, OrderStatus.REQUESTED, acting_user=first.user, reason="身体不适，无法上门")
        out = StringIO()
        call_command("dispatch_orders", stdout=out)
        order.refresh_from_db()
    assert order.status == OrderStatus.ASSIGNED
    assert order.caregiver_id not in {None, first.pk}
    assert "派出 1 单" in out.getvalue()


def test_the_worker_takes_urgent_orders_first_and_is_idempotent(world: ServiceWorld) -> None:
    w = world
    with time_machine.travel(at(6), tick=False):
        later = order_for(w, w.meal, start=at(12))
        urgent = order_for(w, w.meal, start=at(14), urgent=True)
        far_off = order_for(w, w.meal, start=at(10) + dt.timedelta(days=2))
        call_command("dispatch_orders", stdout=StringIO())
        for o in (later, urgent, far_off):
            o.refresh_from_db()
        assert later.status == urgent.status == OrderStatus.ASSIGNED
        assert far_off.status == OrderStatus.REQUESTED  # starts beyond 24 hours
        assert urgent.events.get(to_status=OrderStatus.ASSIGNED).id < later.events.get(
            to_status=OrderStatus.ASSIGNED).id
        events = OrderEvent.objects.count()
        out = StringIO()
        call_command("dispatch_orders", stdout=out)
        assert OrderEvent.objects.count() == events
        assert "派出 0 单" in out.getvalue()


def test_an_urgent_order_is_created_and_assigned_at_once(world: ServiceWorld) -> None:
    w = world
    with time_machine.travel(at(9, 17, ), tick=False):
        outcome = place_urgent_order(person=w.elder, item=w.cleaning, acting_user=w.p.operator,
                                     requested_by_name="女儿 李芳", notes="老人摔倒后需要帮忙整理")
    order = outcome.order
    assert order.urgent
    assert order.source == "call_centre"
    assert order.requested_by_name == "女儿 李芳"
    assert order.window_end - order.window_start == dt.timedelta(hours=2)
    assert order.status == OrderStatus.ASSIGNED
    assert outcome.assigned is not None
    assert outcome.message.startswith(f"已派给{outcome.assigned.name}")


def test_an_urgent_order_for_a_deceased_person_is_refused_and_nothing_is_written(world: ServiceWorld) -> None:
    w = world
    type(w.elder).objects.filter(pk=w.elder.pk).update(status="deceased")
    w.elder.refresh_from_db()
    before = ServiceOrder.objects.count()
    with pytest.raises(UserError, match="已故"):
        place_urgent_order(person=w.elder, item=w.cleaning, acting_user=w.p.operator)
    assert ServiceOrder.objects.count() == before


def test_a_booking_between_keeps_the_worker_from_double_booking(world: ServiceWorld) -> None:
    w = world
    for c in (w.near, w.certified, w.nurse):
        booking(w, c, at(10), minutes=75)
    order = order_for(w, w.meal)
    outcome = auto_assign(order, acting_user=None)
    # Nobody is free at 10:00–11:00 nearby; the far one is outside the circle: offers go out.
    assert outcome.assigned is None
    assert outcome.offers >= 3
