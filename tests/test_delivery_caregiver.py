"""The caregiver's phone pages: today's list with the elder's minimum data, accept/decline, set
out, check in with the phone's position, checklist, photos, check out, signature or texted code,
rating and complaint — through the test client, then the database."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.utils import timezone
from PIL import Image

from sanshe.core.models import AuditAction, AuditEvent
from sanshe.orders.actions import assign_order, create_order
from sanshe.orders.models import (
    Complaint,
    Confirmation,
    ConfirmationCode,
    OrderEvent,
    OrderStatus,
    OutboundMessage,
    ReviewStatus,
    ServicePhoto,
    ServiceRecord,
)
from tests.delivery_helpers import at, confirming_contact, inside, make_order, outside
from tests.factories import client_for, signature_png
from tests.service_factories import ServiceWorld


@pytest.fixture
def clock(time_machine: Any) -> Any:
    time_machine.move_to(at(9, 5), tick=False)
    return time_machine


def jpeg(size: tuple[int, int] = (64, 48)) -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(out, "JPEG")
    out.seek(0)
    out.name = "visit.jpg"
    return out


def test_today_lists_own_orders_by_window_with_minimum_elder_data(world: ServiceWorld, clock: Any) -> None:
    world.elder.allergies = "青霉素过敏"
    world.elder.medications = "硝苯地平 每日一次"
    world.elder.save()
    confirming_contact(world.elder)
    late = make_order(world, caregiver=world.near, start=at(14))
    early = make_order(world, caregiver=world.near, start=at(9))
    make_order(world, caregiver=world.certified, start=at(10))  # someone else's
    make_order(world, caregiver=world.near, start=at(9) + dt.timedelta(days=1))  # tomorrow

    page = client_for(world.near.user).get("/service/mine/")

    assert page.status_code == 200
    html = page.content.decode()
    assert html.index(f'id="order-{early.pk}"') < html.index(f'id="order-{late.pk}"')
    assert html.count('class="card visit-card delivery-card"') == 2
    assert "青霉素过敏" in html
    assert "硝苯地平" in html
    assert "13700001111" in html  # the emergency contact's phone to call
    assert world.elder.phone in html
    assert world.elder.id_number_masked not in html
    assert world.elder.birth_date.strftime("%Y%m%d") not in html
    assert "经济状况" not in html
    assert "/routes/mine/" in html
    assert AuditEvent.objects.filter(action=AuditAction.VIEW_SERVICE, person_id=world.elder.pk).count() == 2


def test_a_caregiver_accepts_checks_in_inside_the_fence_and_delivers(world: ServiceWorld, clock: Any) -> None:
    order = make_order(world, caregiver=world.near)
    client = client_for(world.near.user)

    assert client.post(f"/service/mine/orders/{order.pk}/accept/").status_code == 302
    client.post(f"/service/mine/orders/{order.pk}/set-out/")
    client.post(f"/service/mine/orders/{order.pk}/check-in/", inside(world))
    order.refresh_from_db()
    record = ServiceRecord.objects.get(order=order)
    assert order.status == OrderStatus.IN_SERVICE
    assert record.flags == []
    assert record.check_in_distance_m is not None
    assert record.check_in_distance_m < 50
    assert record.review_status == ReviewStatus.NOT_NEEDED

    client.post(f"/service/mine/orders/{order.pk}/visit/", {"tasks": ["清扫地面", "倒垃圾"], "notes": "精神好"})
    client.post(f"/service/mine/orders/{order.pk}/photo/", {"photo": jpeg()})
    clock.shift(dt.timedelta(minutes=55))
    client.post(f"/service/mine/orders/{order.pk}/visit/", {"tasks": ["清扫地面", "整理床铺", "倒垃圾"],
                                                             "notes": "精神好", "step": "check_out", **inside(world)})
    record.refresh_from_db()
    order.refresh_from_db()
    assert order.status == OrderStatus.DONE
    assert record.minutes == 55
    assert record.tasks_done == ["清扫地面", "整理床铺", "倒垃圾"]
    assert ServicePhoto.objects.filter(record=record, content_type="image/jpeg").count() == 1

    page = client.post(f"/service/mine/orders/{order.pk}/sign/", {
        "signer_name": "钱老太", "image": signature_png(), "rating": "5", "comment": "很细心"}, follow=True)
    assert "钱老太已确认本次服务" in page.content.decode()
    record.refresh_from_db()
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    assert record.confirmation == Confirmation.SIGNATURE
    assert record.confirmed_by_name == "钱老太"
    assert record.rating == 5
    assert record.rating_comment == "很细心"
    assert list(OrderEvent.objects.filter(order=order).values_list("to_status", flat=True)) == [
        "requested", "assigned", "accepted", "on_the_way", "in_service", "done", "confirmed"]


def test_a_checklist_item_not_on_the_list_is_refused(world: ServiceWorld, clock: Any) -> None:
    order = make_order(world, caregiver=world.near, accepted=True)
    client = client_for(world.near.user)
    client.post(f"/service/mine/orders/{order.pk}/check-in/", inside(world))
    page = client.post(f"/service/mine/orders/{order.pk}/visit/", {"tasks": ["代缴电费"]}, follow=True)
    assert "“代缴电费”不在该服务项目的服务内容中" in page.content.decode()
    assert ServiceRecord.objects.get(order=order).tasks_done == []


@pytest.mark.parametrize(("where", "flag", "message"), [
    ("outside", "outside_geofence", "超出范围"),
    ("none", "no_gps", "未取得定位"),
])
def test_a_check_in_outside_the_fence_or_without_gps_is_recorded_and_flagged(
        world: ServiceWorld, clock: Any, where: str, flag: str, message: str) -> None:
    order = make_order(world, caregiver=world.near, accepted=True)
    data = outside(world) if where == "outside" else {"latitude": "", "longitude": ""}
    page = client_for(world.near.user).post(f"/service/mine/orders/{order.pk}/check-in/", data, follow=True)
    assert message in page.content.decode()
    record = ServiceRecord.objects.get(order=order)
    assert record.flags == [flag]
    assert record.review_status == ReviewStatus.PENDING


def test_a_declined_order_goes_back_to_dispatch_with_the_reason(world: ServiceWorld, clock: Any) -> None:
    order = make_order(world, caregiver=world.near)
    client = client_for(world.near.user)
    refused = client.post(f"/service/mine/orders/{order.pk}/decline/", {"reason": ""}, follow=True)
    assert "拒单须填写原因" in refused.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.ASSIGNED

    client.post(f"/service/mine/orders/{order.pk}/decline/", {"reason": "与另一单时间冲突"})
    order.refresh_from_db()
    assert order.status == OrderStatus.REQUESTED
    assert order.caregiver is None
    assert "与另一单时间冲突" in OrderEvent.objects.filter(order=order).last().reason  # type: ignore[union-attr]


def test_another_caregivers_order_is_not_found_and_nothing_changes(world: ServiceWorld, clock: Any) -> None:
    order = make_order(world, caregiver=world.near)
    for user in (world.certified.user, world.manager, world.p.community_worker, world.p.outsider):
        client = client_for(user)
        assert client.get(f"/service/mine/orders/{order.pk}/").status_code == 404
        assert client.post(f"/service/mine/orders/{order.pk}/accept/").status_code == 404
        assert client.post(f"/service/mine/orders/{order.pk}/check-in/", inside(world)).status_code == 404
    order.refresh_from_db()
    assert order.status == OrderStatus.ASSIGNED
    assert not ServiceRecord.objects.exists()


def test_photos_must_be_images_of_at_most_5_mb(world: ServiceWorld, clock: Any) -> None:
    order = make_order(world, caregiver=world.near, accepted=True)
    client = client_for(world.near.user)
    client.post(f"/service/mine/orders/{order.pk}/check-in/", inside(world))
    fake = io.BytesIO(b"%PDF-1.4 not a photo")
    fake.name = "visit.jpg"
    page = client.post(f"/service/mine/orders/{order.pk}/photo/", {"photo": fake}, follow=True)
    assert "只能上传 JPG、PNG 或 WebP 格式的照片" in page.content.decode()
    big = io.BytesIO(b"\xff\xd8" + b"0" * (5 * 1024 * 1024 + 1))
    big.name = "big.jpg"
    page = client.post(f"/service/mine/orders/{order.pk}/photo/", {"photo": big}, follow=True)
    assert "照片不能超过 5 MB" in page.content.decode()
    assert not ServicePhoto.objects.exists()


def _checked_out(world: ServiceWorld, clock: Any) -> tuple[Any, Any]:
    order = make_order(world, caregiver=world.near, accepted=True)
    client = client_for(world.near.user)
    client.post(f"/service/mine/orders/{order.pk}/check-in/", inside(world))
    clock.shift(dt.timedelta(minutes=50))
    client.post(f"/service/mine/orders/{order.pk}/visit/", {"step": "check_out", **inside(world)})
    return order, client


def test_a_family_contact_confirms_with_a_texted_code(world: ServiceWorld, clock: Any) -> None:
    contact = confirming_contact(world.elder)
    order, client = _checked_out(world, clock)
    client.post(f"/service/mine/orders/{order.pk}/code/send/", {"contact": contact.pk})
    code_row = ConfirmationCode.objects.get()
    message = OutboundMessage.objects.get(phone="13700001111")
    code = message.body.split("确认码 ")[1][:6]
    assert code_row.code_hash != code
    assert code not in code_row.code_hash
    assert code_row.phone_masked == "137****1111"
    assert code_row.expires_at == code_row.created_at + dt.timedelta(minutes=10)

    wrong = "000000" if code != "000000" else "111111"
    page = client.post(f"/service/mine/orders/{order.pk}/code/", {"code": wrong}, follow=True)
    assert "验证码不正确，还可尝试 4 次" in page.content.decode()
    client.post(f"/service/mine/orders/{order.pk}/code/", {"code": code, "rating": "4"})
    order.refresh_from_db()
    record = ServiceRecord.objects.get(order=order)
    assert order.status == OrderStatus.CONFIRMED
    assert record.confirmation == Confirmation.CODE
    assert record.confirmed_by_name == "钱小明"
    assert record.rating == 4


def test_a_code_expires_after_10_minutes_and_5_wrong_tries_use_it_up(world: ServiceWorld, clock: Any) -> None:
    contact = confirming_contact(world.elder)
    order, client = _checked_out(world, clock)
    client.post(f"/service/mine/orders/{order.pk}/code/send/", {"contact": contact.pk})
    code = OutboundMessage.objects.get().body.split("确认码 ")[1][:6]
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        client.post(f"/service/mine/orders/{order.pk}/code/", {"code": wrong})
    page = client.post(f"/service/mine/orders/{order.pk}/code/", {"code": code}, follow=True)
    assert "验证码错误次数过多，请重新获取" in page.content.decode()
    assert ConfirmationCode.objects.get().attempts == 5

    clock.shift(dt.timedelta(minutes=2))
    client.post(f"/service/mine/orders/{order.pk}/code/send/", {"contact": contact.pk})
    fresh = OutboundMessage.objects.order_by("-id").first().body.split("确认码 ")[1][:6]  # type: ignore[union-attr]
    clock.shift(dt.timedelta(minutes=11))
    page = client.post(f"/service/mine/orders/{order.pk}/code/", {"code": fresh}, follow=True)
    assert "验证码已失效，请重新获取" in page.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.DONE


def test_a_code_goes_only_to_a_contact_who_may_confirm(world: ServiceWorld, clock: Any) -> None:
    other = confirming_contact(world.elder)
    other.may_confirm_services = False
    other.save()
    order, client = _checked_out(world, clock)
    page = client.post(f"/service/mine/orders/{order.pk}/code/send/", {"contact": other.pk}, follow=True)
    assert "请选择可确认服务的联系人" in page.content.decode()
    assert not OutboundMessage.objects.exists()
    assert not ConfirmationCode.objects.exists()


def test_a_bad_signature_is_refused_and_nothing_changes(world: ServiceWorld, clock: Any) -> None:
    order, client = _checked_out(world, clock)
    page = client.post(f"/service/mine/orders/{order.pk}/sign/", {"signer_name": "钱老太", "image": "data:x"},
                       follow=True)
    assert "签名图像无效" in page.content.decode()
    page = client.post(f"/service/mine/orders/{order.pk}/sign/", {
        "signer_name": "钱老太", "image": signature_png(), "rating": "9"}, follow=True)
    assert "评价应为 1 到 5 星" in page.content.decode()
    order.refresh_from_db()
    record = ServiceRecord.objects.get(order=order)
    assert order.status == OrderStatus.DONE
    assert record.signature == ""
    assert record.rating is None


def test_a_complaint_is_lodged_from_the_visit_page(world: ServiceWorld, clock: Any) -> None:
    order, client = _checked_out(world, clock)
    client.post(f"/service/mine/orders/{order.pk}/complaint/", {"lodged_by_name": "钱小明", "text": "地面没有拖干净"})
    complaint = Complaint.objects.get()
    assert complaint.order == order
    assert complaint.text == "地面没有拖干净"


def test_the_visit_page_shows_the_checklist_and_confirmation(world: ServiceWorld, clock: Any) -> None:
    confirming_contact(world.elder)
    order, client = _checked_out(world, clock)
    html = client.get(f"/service/mine/orders/{order.pk}/").content.decode()
    assert "服务确认" in html
    assert "signature-pad" in html
    assert "发送短信确认码给家属" in html
    assert "清扫地面" in html


def test_a_check_in_on_another_day_than_the_orders_is_refused(world: ServiceWorld, clock: Any) -> None:
    order = make_order(world, caregiver=world.near, accepted=True, start=at(9) + dt.timedelta(days=1))
    page = client_for(world.near.user).post(f"/service/mine/orders/{order.pk}/check-in/", inside(world), follow=True)
    assert "该工单的服务日期是 2026-12-01，只能在当天签到" in page.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.ACCEPTED
    assert not ServiceRecord.objects.exists()


def test_the_home_page_counts_the_caregivers_day_and_a_providers_open_work(world: ServiceWorld) -> None:
    start = timezone.localtime().replace(hour=23, minute=0, second=0, microsecond=0)
    order = create_order(person=world.elder, item=world.cleaning, window_start=start,
                         window_end=start + dt.timedelta(minutes=30), source="community",
                         acting_user=world.p.community_worker)
    assign_order(order, world.near, acting_user=world.manager, lines=["测试"], by="dispatcher")
    body = client_for(world.near.user).get("/").content.decode()
    assert "今日服务（未完成 1）" in body
    body = client_for(world.manager).get("/").content.decode()
    assert "今日工单" in body
    assert "异常记录待核查" in body
