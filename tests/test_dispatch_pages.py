"""The dispatch pages and API: the board and an order's candidates, automatic and overridden
assignment, broadcast and 抢单, the urgent order, and who may do which (denied cases change nothing)."""

from __future__ import annotations

from typing import Any

from django.test import Client

from sanshe.accounts.models import Role
from sanshe.core.models import AuditAction, AuditEvent
from sanshe.dispatch.actions import broadcast_order
from sanshe.orders.models import OfferResponse, OrderEvent, OrderOffer, OrderStatus, ServiceOrder
from tests.factories import PASSWORD, client_for, make_user
from tests.service_factories import ServiceWorld
from tests.test_dispatch_builders import order_for


def api_client(user: Any) -> Client:
    response = Client().post("/api/v1/auth/token", {"username": user.username, "password": PASSWORD},
                             content_type="application/json")
    assert response.status_code == 200, response.content
    return Client(headers={"Authorization": f"Bearer {response.json()['token']}"})


def unchanged(order: ServiceOrder) -> tuple[object, ...]:
    order.refresh_from_db()
    return order.status, order.caregiver_id, OrderEvent.objects.filter(order=order).count(), order.offers.count()


def test_the_operator_sees_the_board_and_why_each_caregiver_is_proposed_or_not(world: ServiceWorld) -> None:
    w = world
    order = order_for(w, w.bath)
    operator = client_for(w.p.operator)
    board = operator.get("/dispatch/").content.decode()
    assert "待派单" in board
    assert "上门助浴" in board
    assert f"/dispatch/orders/{order.pk}/" in board
    page = operator.get(f"/dispatch/orders/{order.pk}/").content.decode()
    assert "推荐护理员" in page
    assert "持有养老护理员职业技能等级证书" in page
    assert "分钟服务圈内" in page
    assert "排名第一" in page
    assert "没有“养老护理员职业技能等级证书”" in page  # the excluded one, with why
    assert AuditEvent.objects.filter(action=AuditAction.VIEW_SERVICE, person_id=w.elder.pk,
                                     actor=w.p.operator).exists()


def test_auto_assign_from_the_page(world: ServiceWorld) -> None:
    w = world
    order = order_for(w, w.meal)
    response = client_for(w.p.operator).post(f"/dispatch/orders/{order.pk}/auto/", follow=True)
    order.refresh_from_db()
    assert order.status == OrderStatus.ASSIGNED
    assert f"已派给{order.caregiver.name}" in response.content.decode()  # type: ignore[union-attr]
    assert AuditEvent.objects.filter(action=AuditAction.CHANGE_ORDER, person_id=w.elder.pk).exists()


def test_the_override_form_needs_a_reason_and_then_records_it(world: ServiceWorld) -> None:
    w = world
    order = order_for(w, w.meal)
    operator = client_for(w.p.operator)
    before = unchanged(order)
    response = operator.post(f"/dispatch/orders/{order.pk}/override/", {"caregiver": w.far.pk, "reason": ""},
                             follow=True)
    assert "指定护理员须填写原因" in response.content.decode()
    assert unchanged(order) == before
    response = operator.post(f"/dispatch/orders/{order.pk}/override/",
                             {"caregiver": w.far.pk, "reason": "老人点名要马护理"}, follow=True)
    order.refresh_from_db()
    assert order.caregiver_id == w.far.pk
    page = response.content.decode()
    assert "调度员指定：老人点名要马护理" in page
    assert "⚠ 不符合自动派单条件" in page


def test_a_provider_manager_dispatches_their_own_orders_only(world: ServiceWorld) -> None:
    w = world
    order = order_for(w, w.meal)
    own = client_for(w.manager)
    assert own.get(f"/dispatch/orders/{order.pk}/").status_code == 200
    other_boss = make_user("otherboss", w.other_provider, Role.PROVIDER_MANAGER)
    other = client_for(other_boss)
    before = unchanged(order)
    assert f"/dispatch/orders/{order.pk}/" not in other.get("/dispatch/").content.decode()
    assert other.get(f"/dispatch/orders/{order.pk}/").status_code == 404
    assert other.post(f"/dispatch/orders/{order.pk}/auto/").status_code == 404
    assert other.post(f"/dispatch/orders/{order.pk}/override/",
                      {"caregiver": w.near.pk, "reason": "x"}).status_code == 404
    assert api_client(other_boss).get(f"/api/v1/dispatch/orders/{order.pk}/candidates").status_code == 404
    assert unchanged(order) == before


def test_a_provider_manager_cannot_name_another_providers_caregiver(world: ServiceWorld) -> None:
    from tests.service_factories import make_caregiver

    w = world
    order = order_for(w, w.meal)
    stranger = make_caregiver(w.other_provider, "何外援", lat=w.near.home_latitude, lon=w.near.home_longitude)
    before = unchanged(order)
    response = client_for(w.manager).post(f"/dispatch/orders/{order.pk}/override/",
                                          {"caregiver": stranger.pk, "reason": "试试"})
    assert response.status_code == 404
    assert unchanged(order) == before


def test_a_caregiver_or_community_worker_cannot_dispatch(world: ServiceWorld) -> None:
    w = world
    order = order_for(w, w.meal)
    before = unchanged(order)
    for user in (w.near.user, w.p.community_worker):
        c = client_for(user)
        assert c.get("/dispatch/").status_code == 403
        assert c.post(f"/dispatch/orders/{order.pk}/auto/").status_code in (403, 404)
        assert c.post(f"/dispatch/orders/{order.pk}/broadcast/").status_code in (403, 404)
        assert c.get("/dispatch/urgent/").status_code == 403
    assert api_client(w.near.user).post(f"/api/v1/dispatch/orders/{order.pk}/auto-assign").status_code in (403, 404)
    assert unchanged(order) == before


def test_the_urgent_order_form_creates_and_assigns_and_shows_why(world: ServiceWorld) -> None:
    w = world
    operator = client_for(w.p.operator)
    found = operator.get("/dispatch/urgent/", {"q": "钱老太"}).content.decode()
    assert f"?person={w.elder.pk}" in found
    form = operator.get("/dispatch/urgent/", {"person": w.elder.pk}).content.decode()
    assert "居室清洁" in form
    response = operator.post(f"/dispatch/urgent/?person={w.elder.pk}",
                             {"item": w.cleaning.pk, "caller": "女儿 李芳", "notes": "摔倒后需要整理"}, follow=True)
    order = ServiceOrder.objects.get(person=w.elder, urgent=True)
    assert order.status == OrderStatus.ASSIGNED
    assert order.source == "call_centre"
    page = response.content.decode()
    assert "紧急工单已创建" in page
    assert order.caregiver.name in page
    assert "分钟服务圈内" in page


def test_the_urgent_order_form_refuses_an_unknown_person(world: ServiceWorld) -> None:
    w = world
    assert client_for(w.p.operator).get("/dispatch/urgent/", {"person": 999999}).status_code == 404
    assert not ServiceOrder.objects.exists()


def test_a_caregiver_grabs_an_offer_on_the_phone_page_and_the_second_is_refused(world: ServiceWorld) -> None:
    w = world
    order = order_for(w, w.bath)
    broadcast_order(order)
    first, second = client_for(w.certified.user), client_for(w.nurse.user)  # type: ignore[arg-type]
    page = first.get("/dispatch/offers/").content.decode()
    assert "上门助浴" in page
    assert "抢单" in page
    offer_1 = OrderOffer.objects.get(order=order, caregiver=w.certified)
    offer_2 = OrderOffer.objects.get(order=order, caregiver=w.nurse)
    # Someone else's offer is not found.
    assert second.post(f"/dispatch/offers/{offer_1.pk}/accept/").status_code == 404
    response = first.post(f"/dispatch/offers/{offer_1.pk}/accept/", follow=True)
    assert "抢单成功" in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.ACCEPTED
    assert order.caregiver_id == w.certified.pk
    response = second.post(f"/dispatch/offers/{offer_2.pk}/accept/", follow=True)
    assert "不能再接单" in response.content.decode()
    order.refresh_from_db()
    assert order.caregiver_id == w.certified.pk


def test_the_api_candidates_auto_assign_override_and_urgent(world: ServiceWorld) -> None:
    w = world
    api = api_client(w.p.operator)
    order = order_for(w, w.bath)
    data = api.get(f"/api/v1/dispatch/orders/{order.pk}/candidates").json()
    assert data["circle_minutes"] == 15
    assert {c["caregiver_id"] for c in data["candidates"]} == {w.certified.pk, w.nurse.pk}
    assert any(c["excluded_reason"] == "没有“养老护理员职业技能等级证书”" for c in data["excluded"])
    bad = api.post(f"/api/v1/dispatch/orders/{order.pk}/override", {"caregiver_id": w.near.pk, "reason": "家属要求"},
                   content_type="application/json")
    assert bad.status_code == 400
    assert "养老护理员职业技能等级证书" in bad.json()["detail"]
    done = api.post(f"/api/v1/dispatch/orders/{order.pk}/auto-assign").json()
    assert done["status"] == "assigned"
    assert done["by"] == "auto"
    assert done["lines"]
    again = api.post(f"/api/v1/dispatch/orders/{order.pk}/auto-assign")
    assert again.status_code == 400
    moved = api.post(f"/api/v1/dispatch/orders/{order.pk}/override",
                     {"caregiver_id": w.nurse.pk if done["caregiver_id"] != w.nurse.pk else w.certified.pk,
                      "reason": "原护理员请假"}, content_type="application/json").json()
    assert moved["by"] == "dispatcher"
    assert moved["lines"][0] == "调度员指定：原护理员请假"
    urgent = api.post("/api/v1/dispatch/urgent-orders", {"person_id": w.elder.pk, "item_id": w.meal.pk},
                      content_type="application/json")
    assert urgent.status_code == 201
    assert urgent.json()["status"] == "assigned"


def test_the_api_broadcast_and_offer_answers(world: ServiceWorld) -> None:
    w = world
    order = order_for(w, w.bath)
    offers = api_client(w.manager).post(f"/api/v1/dispatch/orders/{order.pk}/broadcast").json()
    assert len(offers) == 2
    mine = next(o for o in offers if OrderOffer.objects.get(pk=o["id"]).caregiver_id == w.nurse.pk)
    declined = api_client(w.nurse.user).post(f"/api/v1/dispatch/offers/{mine['id']}/decline", {"reason": "没空"},
                                              content_type="application/json")
    assert declined.json()["response"] == OfferResponse.DECLINED
    other = next(o for o in offers if o["id"] != mine["id"])
    taken = api_client(w.certified.user).post(f"/api/v1/dispatch/offers/{other['id']}/accept").json()
    assert taken["status"] == "accepted"
    assert taken["caregiver_id"] == w.certified.pk
