"""The elder's personal request link: made by a worker (shown once, only its hash stored),
revocable, opening a phone page without an account that records orders, at most five open."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.test import Client
from django.utils import timezone

from sanshe.core.models import AuditAction, AuditEvent
from sanshe.orders.actions import MAX_OPEN_PER_LINK, create_request_link
from sanshe.orders.models import OrderSource, OrderStatus, RequestLink, ServiceOrder
from sanshe.people.models import Person
from tests.factories import client_for
from tests.service_factories import ServiceWorld
from tests.test_orders_builders import clock, entitle

pytestmark = pytest.mark.django_db
__all__ = ["clock"]


def _token(world: ServiceWorld) -> str:
    return create_request_link(world.elder, acting_user=world.p.community_worker)[1]


def test_a_worker_makes_a_link_shown_once_and_stored_as_a_hash(world: ServiceWorld, clock: object) -> None:
    response = client_for(world.p.community_worker).post(f"/orders/person/{world.elder.pk}/link/")
    html = response.content.decode()
    found = re.search(r"/orders/r/([A-Za-z0-9_-]+)/", html)
    assert response.status_code == 200
    assert found is not None
    assert "data:image/svg+xml" in html
    assert response["Cache-Control"] == "no-store"
    token = found.group(1)
    link = RequestLink.objects.get()
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(RequestLink.objects.values().get())
    panel = client_for(world.p.community_worker).get(f"/orders/person/{world.elder.pk}/panel/").content.decode()
    assert token not in panel
    assert AuditEvent.objects.filter(action=AuditAction.CHANGE_ORDER, subject=f"自助下单链接 {link.pk}").exists()


def test_only_workers_who_may_request_for_the_person_make_links(world: ServiceWorld, clock: object) -> None:
    assert client_for(world.p.neighbour_worker).post(f"/orders/person/{world.elder.pk}/link/").status_code == 404
    assert client_for(world.p.auditor).post(f"/orders/person/{world.elder.pk}/link/").status_code == 403
    assert not RequestLink.objects.exists()


def test_the_phone_page_shows_the_masked_name_and_contracted_services(world: ServiceWorld, clock: object) -> None:
    page = Client().get(f"/orders/r/{_token(world)}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "钱*太" in html
    assert "钱老太" not in html
    assert world.elder.address not in html
    assert all(name in html for name in ("助餐送餐", "居室清洁", "上门助浴"))
    assert 'lang="zh-CN"' in html
    assert "我要服务" in html
    assert page["Referrer-Policy"] == "same-origin"


def test_the_elder_asks_for_a_service_without_an_account(world: ServiceWorld, clock: object) -> None:
    entitle(world, world.elder, quota=None, tier="low_cost")
    token = _token(world)
    response = Client().post(f"/orders/r/{token}/", {"item": world.meal.pk, "day": "2026-06-02", "half": "afternoon"})
    assert response.status_code == 200
    assert "已收到您的申请：助餐送餐" in response.content.decode()
    order = ServiceOrder.objects.get()
    assert (order.source, order.tier, order.requested_by, order.provider) == (OrderSource.ELDER, "low_cost", None,
                                                                              world.d.provider)
    assert timezone.localtime(order.window_start).hour == 14
    assert AuditEvent.objects.filter(action=AuditAction.CHANGE_ORDER, person_id=world.elder.pk).exists()


@pytest.mark.parametrize(("data", "message"), [
    ({"day": "2026-06-02", "half": "morning"}, "请先选择一项服务"),
    ({"item": "x", "day": "2026-06-02", "half": "morning"}, "请先选择一项服务"),
    ({"item": "ITEM", "day": "", "half": "morning"}, "请选择服务日期"),
    ({"item": "ITEM", "day": "2026-06-02", "half": "evening"}, "请选择上午或下午"),
    ({"item": "ITEM", "day": "2026-07-30", "half": "morning"}, "14 天内"),
    ({"item": "ITEM", "day": "2026-05-30", "half": "morning"}, "14 天内"),
])
def test_bad_choices_are_explained_and_nothing_is_ordered(world: ServiceWorld, clock: object,
                                                          data: dict[str, str], message: str) -> None:
    if data.get("item") == "ITEM":
        data = data | {"item": str(world.meal.pk)}
    response = Client().post(f"/orders/r/{_token(world)}/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ServiceOrder.objects.exists()


def test_a_link_holds_at_most_five_open_requests(world: ServiceWorld, clock: object) -> None:
    token = _token(world)
    c = Client()
    for _ in range(MAX_OPEN_PER_LINK):
        assert c.post(f"/orders/r/{token}/", {"item": world.meal.pk, "day": "2026-06-03",
                                              "half": "morning"}).status_code == 200
    refused = c.post(f"/orders/r/{token}/", {"item": world.meal.pk, "day": "2026-06-03", "half": "morning"})
    assert refused.status_code == 400
    assert "等待安排" in refused.content.decode()
    assert ServiceOrder.objects.count() == MAX_OPEN_PER_LINK
    ServiceOrder.objects.filter(pk=ServiceOrder.objects.first().pk).update(status=OrderStatus.CONFIRMED)  # type: ignore[union-attr]
    assert c.post(f"/orders/r/{token}/", {"item": world.meal.pk, "day": "2026-06-03",
                                          "half": "morning"}).status_code == 200


def test_a_revoked_or_unknown_link_is_a_plain_404(world: ServiceWorld, clock: object) -> None:
    token = _token(world)
    link = RequestLink.objects.get()
    assert Client().get("/orders/r/not-a-token/").status_code == 404
    assert client_for(world.p.neighbour_worker).post(f"/orders/links/{link.pk}/revoke/").status_code == 404
    assert RequestLink.objects.get().revoked_at is None
    response = client_for(world.p.community_worker).post(f"/orders/links/{link.pk}/revoke/")
    assert response.status_code == 302
    assert RequestLink.objects.get().revoked_at is not None
    assert Client().get(f"/orders/r/{token}/").status_code == 404
    assert Client().post(f"/orders/r/{token}/", {"item": world.meal.pk, "day": "2026-06-02",
                                                 "half": "morning"}).status_code == 404
    assert not ServiceOrder.objects.exists()


def test_a_link_stops_working_when_the_person_is_no_longer_served(world: ServiceWorld, clock: object) -> None:
    token = _token(world)
    Person.objects.filter(pk=world.elder.pk).update(status="moved_away")
    assert Client().get(f"/orders/r/{token}/").status_code == 404


def test_the_api_makes_and_revokes_links(world: ServiceWorld, clock: object) -> None:
    from tests.test_orders_builders import api_client

    c = api_client(world.p.community_worker)
    made = c.post("/api/v1/request-links", {"person_id": world.elder.pk}, content_type="application/json")
    assert made.status_code == 201
    url = made.json()["url"]
    assert "/orders/r/" in url
    assert Client().get(url.split("testserver")[-1]).status_code == 200
    link_id = made.json()["id"]
    denied = api_client(world.p.neighbour_worker).post(f"/api/v1/request-links/{link_id}/revoke")
    assert denied.status_code == 404
    assert RequestLink.objects.get().revoked_at is None
    revoked = c.post(f"/api/v1/request-links/{link_id}/revoke")
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert Client().get(url.split("testserver")[-1]).status_code == 404
