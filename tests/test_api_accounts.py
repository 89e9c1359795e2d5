"""The accounts API: tokens with lock-out and two-step verification, the current user,
regions, organisations, users, and the audit log search (auditors only)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pyotp
import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from sanshe.accounts import actions
from sanshe.accounts.models import ApiToken, Membership, Organization, Region, User
from sanshe.core.models import AuditAction, AuditEvent, Channel
from tests.factories import PASSWORD, District, Personas, make_person

pytestmark = pytest.mark.django_db


def token_response(login: str, password: str, **extra: Any) -> Any:
    return Client().post("/api/v1/auth/token", json.dumps({"username": login, "password": password, **extra}),
                         content_type="application/json")


def api_client(user: Any) -> Client:
    response = token_response(user.username, PASSWORD)
    assert response.status_code == 200, response.content
    return Client(headers={"Authorization": f"Bearer {response.json()['token']}"})


def send(c: Client, method: str, url: str, data: Any) -> Any:
    return getattr(c, method)(url, json.dumps(data), content_type="application/json")


# --- tokens ------------------------------------------------------------------------------------


def test_a_token_is_issued_for_username_or_mobile_and_only_its_hash_is_kept(personas: Personas) -> None:
    for login in ("worker", "13900000001"):
        response = token_response(login, PASSWORD)
        assert response.status_code == 200
        body = response.json()
        assert body["token"].startswith("ss_")
        assert body["token_type"] == "Bearer"
        assert dt.datetime.fromisoformat(body["expires_at"]) > timezone.now() + dt.timedelta(days=29)
        assert not ApiToken.objects.filter(key_hash=body["token"]).exists()
    assert ApiToken.objects.filter(user=personas.community_worker).count() == 2
    login = AuditEvent.objects.filter(action=AuditAction.LOGIN, actor=personas.community_worker).first()
    assert login is not None
    assert login.channel == Channel.API
    assert AuditEvent.objects.filter(action=AuditAction.API_TOKEN, actor=personas.community_worker).count() == 2


@pytest.mark.parametrize(("login", "password"), [("worker", "wrong-password"), ("nobody", "whatever-123")])
def test_a_wrong_password_and_an_unknown_user_get_the_same_chinese_refusal(
    personas: Personas, login: str, password: str
) -> None:
    response = token_response(login, password)
    assert response.status_code == 401
    assert response.json()["detail"] == "用户名或密码错误"
    assert "token" not in response.json()
    assert not ApiToken.objects.exists()
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).count() == 1


def test_a_missing_password_is_named_in_chinese(db: None) -> None:
    response = Client().post("/api/v1/auth/token", json.dumps({"username": "worker"}), content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"] == "password：必填"


def test_the_account_locks_after_repeated_failures_even_for_the_right_password(
    personas: Personas, settings: Any
) -> None:
    for _ in range(settings.LOCKOUT_FAILURES):
        assert token_response("worker", "wrong-password").status_code == 401
    response = token_response("worker", PASSWORD)
    assert response.status_code == 401
    assert "已锁定" in response.json()["detail"]
    assert not ApiToken.objects.exists()
    assert AuditEvent.objects.filter(action=AuditAction.ACCOUNT_LOCKED, subject="worker").count() == 1
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=settings.LOCKOUT_MINUTES + 1)):
        assert token_response("worker", PASSWORD).status_code == 200


def test_a_user_with_two_step_verification_needs_the_code_for_a_token(personas: Personas) -> None:
    secret = pyotp.random_base32()
    actions.enable_totp(personas.admin, secret=secret, code=pyotp.TOTP(secret).now())
    response = token_response("admin", PASSWORD)
    assert response.status_code == 401
    assert "两步验证" in response.json()["detail"]
    assert not ApiToken.objects.exists()
    assert token_response("admin", PASSWORD, totp_code=pyotp.TOTP(secret).now()).status_code == 200


def test_an_expired_revoked_or_forged_token_is_refused_in_chinese(personas: Personas) -> None:
    key, token = actions.issue_api_token(personas.community_worker)
    c = Client(headers={"Authorization": f"Bearer {key}"})
    assert c.get("/api/v1/me").status_code == 200
    with time_machine.travel(token.expires_at + dt.timedelta(seconds=1)):
        assert c.get("/api/v1/me").status_code == 401
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    response = c.get("/api/v1/me")
    assert response.status_code == 401
    assert "令牌" in response.json()["detail"]
    assert Client(headers={"Authorization": "Bearer ss_forged"}).get("/api/v1/me").status_code == 401


def test_a_deactivated_user_token_stops_working(personas: Personas) -> None:
    c = api_client(personas.community_worker)
    User.objects.filter(pk=personas.community_worker.pk).update(is_active=False)
    assert c.get("/api/v1/me").status_code == 401


# --- me ----------------------------------------------------------------------------------------


def test_me_shows_the_account_and_its_memberships(personas: Personas) -> None:
    body = api_client(personas.community_worker).get("/api/v1/me").json()
    assert (body["username"], body["full_name"], body["totp_enabled"]) == ("worker", "赵助老", False)
    assert [(m["organization"], m["role"]) for m in body["memberships"]] == [("杏林社区居委会", "elder_assistant")]
    assert "password" not in body


# --- regions -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "codes"),
    [
        ("district_officer", ["330199000000", "330199001000", "330199001001", "330199001002", "330199002000",
                              "330199002001"]),
        ("community_worker", ["330199001001"]),
        ("street_officer", ["330199001000", "330199001001", "330199001002"]),
        ("caregiver", []),
        ("outsider", []),
    ],
)
def test_regions_are_listed_within_the_callers_scope(personas: Personas, persona: str, codes: list[str]) -> None:
    body = api_client(getattr(personas, persona)).get("/api/v1/regions").json()
    assert [r["code"] for r in body] == codes


def test_regions_can_be_filtered_by_level(personas: Personas) -> None:
    body = api_client(personas.district_officer).get("/api/v1/regions", {"level": "street"}).json()
    assert [r["name"] for r in body] == ["溪口街道", "桂花街道"]


def test_a_district_officer_adds_a_region_inside_the_district(personas: Personas, district: District) -> None:
    c = api_client(personas.district_officer)
    response = send(c, "post", "/api/v1/regions", {"code": "330199002002", "name": "丹桂社区"})
    assert response.status_code == 201
    region = Region.objects.get(code="330199002002")
    assert (region.level, region.parent) == ("community", district.street_b)
    assert AuditEvent.objects.filter(action=AuditAction.MANAGE_REGIONS, actor=personas.district_officer).exists()


@pytest.mark.parametrize(
    ("persona", "code", "status", "message"),
    [
        ("district_officer", "110105001001", 400, "管辖范围"),
        ("district_officer", "3301", 400, "12位数字"),
        ("community_worker", "330199001003", 403, "无权"),
        ("caregiver", "330199001003", 403, "无权"),
    ],
)
def test_a_region_outside_the_scope_or_without_the_capability_is_refused(
    personas: Personas, persona: str, code: str, status: int, message: str
) -> None:
    before = Region.objects.count()
    response = send(api_client(getattr(personas, persona)), "post", "/api/v1/regions", {"code": code, "name": "新社区"})
    assert response.status_code == status
    assert message in response.json()["detail"]
    assert Region.objects.count() == before


# --- organisations and users -------------------------------------------------------------------


def test_an_administrator_lists_and_creates_organisations(personas: Personas, district: District) -> None:
    c = api_client(personas.admin)
    names = [o["name"] for o in c.get("/api/v1/organizations").json()]
    assert "青溪区民政局" in names
    assert "杏林社区居委会" in names
    response = send(c, "post", "/api/v1/organizations",
                    {"name": "青溪乐龄助餐中心", "kind": "provider", "region_id": district.street_b.pk})
    assert response.status_code == 201
    assert Organization.objects.get(name="青溪乐龄助餐中心").region == district.street_b
    response = send(c, "post", "/api/v1/organizations",
                    {"name": "青溪乐龄助餐中心", "kind": "provider", "region_id": district.street_b.pk})
    assert response.status_code == 400
    assert "已存在" in response.json()["detail"]


def test_an_administrator_creates_a_user_with_a_membership(personas: Personas, district: District) -> None:
    c = api_client(personas.admin)
    response = send(c, "post", "/api/v1/users", {
        "username": "chef", "full_name": "周师傅", "mobile": "13700000009", "password": "Kitchen-2026-x",
        "organization_id": district.provider.pk, "role": "caregiver"})
    assert response.status_code == 201, response.content
    assert response.json()["memberships"][0]["role"] == "caregiver"
    assert Membership.objects.get(user__username="chef").organization == district.provider
    assert "chef" in [u["username"] for u in c.get("/api/v1/users").json()]
    assert token_response("13700000009", "Kitchen-2026-x").status_code == 200


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"password": "12345678"}, "密码"),
        ({"username": "worker"}, "已被使用"),
        ({"mobile": "13900000001"}, "已绑定"),
        ({"role": "emperor"}, "取值不在允许范围内"),
        ({"organization_id": 999999}, "组织不存在"),
    ],
)
def test_a_bad_user_is_refused_in_chinese_and_nothing_is_created(
    personas: Personas, district: District, overrides: dict[str, Any], message: str
) -> None:
    data = {"username": "chef", "full_name": "周师傅", "password": "Kitchen-2026-x",
            "organization_id": district.provider.pk, "role": "caregiver", **overrides}
    before = (User.objects.count(), Membership.objects.count())
    response = send(api_client(personas.admin), "post", "/api/v1/users", data)
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert (User.objects.count(), Membership.objects.count()) == before


@pytest.mark.parametrize("persona", ["district_officer", "community_worker", "auditor", "caregiver", "outsider"])
def test_only_account_managers_see_or_create_organisations_and_users(
    personas: Personas, district: District, persona: str
) -> None:
    c = api_client(getattr(personas, persona))
    before = (Organization.objects.count(), User.objects.count())
    for url in ("/api/v1/organizations", "/api/v1/users"):
        response = c.get(url)
        assert response.status_code == 403
        assert response.json()["detail"] == "无权执行此操作"
    assert send(c, "post", "/api/v1/organizations",
                {"name": "冒名机构", "kind": "provider", "region_id": district.district.pk}).status_code == 403
    assert send(c, "post", "/api/v1/users", {
        "username": "ghost", "full_name": "冒名", "password": "Kitchen-2026-x",
        "organization_id": district.bureau.pk, "role": "admin"}).status_code == 403
    assert (Organization.objects.count(), User.objects.count()) == before


# --- audit log ---------------------------------------------------------------------------------


def test_an_auditor_searches_the_audit_log_and_the_search_is_itself_recorded(
    personas: Personas, district: District
) -> None:
    person = make_person(district.community_a1, by=personas.district_officer)
    worker = api_client(personas.community_worker)
    worker.get(f"/api/v1/people/{person.pk}")
    c = api_client(personas.auditor)
    response = c.get("/api/v1/audit-events", {"action": "view_person", "person_id": person.pk})
    assert response.status_code == 200
    [event] = response.json()
    assert (event["actor_name"], event["action_label"], event["channel"], event["subject"]) == (
        "赵助老", "查看档案", "api", "张*丰")
    assert [e["action"] for e in c.get("/api/v1/audit-events", {"actor": "worker", "action": "login"}).json()] == [
        "login"]
    today = timezone.localdate()
    assert c.get("/api/v1/audit-events", {"date_from": (today + dt.timedelta(days=1)).isoformat()}).json() == []
    assert len(c.get("/api/v1/audit-events", {"limit": 2}).json()) == 2
    assert AuditEvent.objects.filter(action=AuditAction.SEARCH_AUDIT, actor=personas.auditor).count() == 4


@pytest.mark.parametrize("persona", ["district_officer", "admin", "community_worker", "caregiver", "outsider"])
def test_only_auditors_may_search_the_audit_log(personas: Personas, persona: str) -> None:
    response = api_client(getattr(personas, persona)).get("/api/v1/audit-events")
    assert response.status_code == 403
    assert response.json()["detail"] == "只有审计员可以查询审计日志"
    assert not AuditEvent.objects.filter(action=AuditAction.SEARCH_AUDIT).exists()
