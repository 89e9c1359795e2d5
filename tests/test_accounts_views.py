"""Sign-in with lock-out and two-step verification, the role home pages, regions,
organisations, users and the audit log pages."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pyotp
import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from openpyxl import Workbook

from sanshe.accounts import actions
from sanshe.accounts.models import Membership, Organization, Region, User
from sanshe.core.models import AuditAction, AuditEvent
from tests.factories import PASSWORD, District, Personas

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_signing_in_by_username_or_mobile_lands_on_the_home_page(personas: Personas) -> None:
    c = Client()
    response = c.post("/login/", {"login": "13900000001", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert "社区助老员/信息员" in response.content.decode()
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN, actor=personas.community_worker).exists()


def test_pages_need_a_signed_in_user(db: None) -> None:
    response = Client().get("/people/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_passwords_are_hashed_with_argon2(personas: Personas) -> None:
    assert User.objects.get(username="worker").password.startswith("argon2")


def test_an_account_locks_after_repeated_failures_and_unlocks_later(personas: Personas, settings: Any) -> None:
    c = Client()
    for _ in range(settings.LOCKOUT_FAILURES):
        c.post("/login/", {"login": "worker", "password": "wrong-password"})
    response = c.post("/login/", {"login": "worker", "password": PASSWORD})
    assert "已锁定" in response.content.decode()
    assert "_auth_user_id" not in c.session
    assert AuditEvent.objects.filter(action=AuditAction.ACCOUNT_LOCKED).count() == 1
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=settings.LOCKOUT_MINUTES + 1)):
        response = c.post("/login/", {"login": "worker", "password": PASSWORD})
        assert response.status_code == 302


def test_an_unknown_user_gets_the_same_message_as_a_wrong_password(db: None) -> None:
    response = Client().post("/login/", {"login": "nobody", "password": "whatever-123"})
    assert "用户名或密码错误" in response.content.decode()


def test_an_administrator_with_two_step_verification_needs_the_code(personas: Personas) -> None:
    secret = pyotp.random_base32()
    actions.enable_totp(personas.admin, secret=secret, code=pyotp.TOTP(secret).now())
    c = Client()
    response = c.post("/login/", {"login": "admin", "password": PASSWORD})
    assert response["Location"].startswith("/login/verify/")
    assert "_auth_user_id" not in c.session
    c.post("/login/verify/", {"code": "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"})
    assert "_auth_user_id" not in c.session
    c.post("/login/verify/", {"code": pyotp.TOTP(secret).now()})
    assert c.session["_auth_user_id"] == str(personas.admin.pk)


def test_the_two_step_setup_page_shows_a_local_qr_code(personas: Personas) -> None:
    body = client_for(personas.admin).get("/account/totp/").content.decode()
    assert "<svg" in body
    assert "http" not in body.split("<svg", 1)[1].split("</svg>", 1)[0].replace("http://www.w3.org", "")


@pytest.mark.parametrize(
    ("persona", "text"),
    [
        ("district_officer", "辖区在册人员"),
        ("admin", "系统管理"),
        ("auditor", "需要关注的审计事件"),
        ("caregiver", "服务工单"),
        ("outsider", "尚未分配任何组织和角色"),
    ],
)
def test_each_role_lands_on_its_home_page(personas: Personas, district: District, persona: str, text: str) -> None:
    body = client_for(getattr(personas, persona)).get("/").content.decode()
    assert text in body


def region_workbook(rows: list[tuple[str, str]]) -> io.BytesIO:
    wb = Workbook()
    ws = wb.active
    ws.append(["区划代码", "名称"])
    for row in rows:
        ws.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    buf.name = "regions.xlsx"
    return buf


def test_regions_import_from_a_spreadsheet_parents_first(personas: Personas) -> None:
    c = client_for(personas.district_officer)
    wb = region_workbook([("330199003001", "云栖村"), ("330199003000", "云栖镇")])
    response = c.post("/regions/", {"form": "import", "file": wb})
    assert response.status_code == 302
    village = Region.objects.get(code="330199003001")
    assert village.parent.name == "云栖镇"
    assert village.level == "community"


def test_a_region_file_with_a_bad_row_imports_nothing(personas: Personas) -> None:
    c = client_for(personas.district_officer)
    before = Region.objects.count()
    wb = region_workbook([("330199003000", "云栖镇"), ("3301990030", "坏代码"), ("330199009001", "无上级村")])
    body = c.post("/regions/", {"form": "import", "file": wb}).content.decode()
    assert "第3行" in body
    assert "第4行" in body
    assert Region.objects.count() == before


def test_regions_outside_the_scope_are_refused(personas: Personas) -> None:
    c = client_for(personas.district_officer)
    body = c.post("/regions/", {"form": "single", "code": "110105001001", "name": "别处社区"}).content.decode()
    assert "管辖范围" in body
    assert not Region.objects.filter(code="110105001001").exists()


def test_an_administrator_creates_an_organisation_and_a_user(personas: Personas, district: District) -> None:
    c = client_for(personas.admin)
    c.post("/organizations/", {"name": "青溪乐龄助餐中心", "kind": "provider", "region": district.street_b.pk})
    org = Organization.objects.get(name="青溪乐龄助餐中心")
    response = c.post("/users/", {"username": "chef", "full_name": "周师傅", "mobile": "13700000009",
                                  "password": "Kitchen-2026-x", "organization": org.pk, "role": "caregiver"})
    assert response.status_code == 302
    assert Membership.objects.get(user__username="chef").role == "caregiver"


def test_a_weak_password_is_refused_in_chinese(personas: Personas, district: District) -> None:
    c = client_for(personas.admin)
    body = c.post("/users/", {"username": "weak", "full_name": "弱密码", "password": "12345678",
                              "organization": district.bureau.pk, "role": "operator"}).content.decode()
    assert "密码" in body
    assert not User.objects.filter(username="weak").exists()


@pytest.mark.parametrize("persona", ["community_worker", "district_officer", "caregiver", "outsider"])
def test_people_without_the_capability_cannot_manage_accounts(personas: Personas, district: District, persona: str) -> None:
    c = client_for(getattr(personas, persona))
    before = (Organization.objects.count(), User.objects.count())
    assert c.get("/users/").status_code == 403
    c.post("/organizations/", {"name": "冒名机构", "kind": "provider", "region": district.district.pk})
    assert (Organization.objects.count(), User.objects.count()) == before


def test_only_auditors_can_search_the_audit_log(personas: Personas) -> None:
    assert client_for(personas.district_officer).get("/audit/").status_code == 403
    response = client_for(personas.auditor).get("/audit/", {"action": "login"})
    assert response.status_code == 200
    assert AuditEvent.objects.filter(action=AuditAction.SEARCH_AUDIT, actor=personas.auditor).exists()
