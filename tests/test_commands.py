"""Management commands for a real installation."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from sanshe.accounts.models import Membership, Region

pytestmark = pytest.mark.django_db


def test_create_admin_sets_up_the_district_bureau_and_administrator(monkeypatch: Any) -> None:
    monkeypatch.setenv("SANSHE_ADMIN_PASSWORD", "Strong-admin-2026")
    call_command("create_admin", district_code="330106000000", district_name="西湖区", username="root")
    assert Region.objects.get(code="330106000000").level == "district"
    membership = Membership.objects.get(user__username="root")
    assert membership.role == "admin"
    assert membership.organization.name == "西湖区民政局"
    assert authenticate(username="root", password="Strong-admin-2026") is not None


def test_create_admin_refuses_a_weak_password_and_creates_nothing(monkeypatch: Any) -> None:
    monkeypatch.setenv("SANSHE_ADMIN_PASSWORD", "123456")
    with pytest.raises(CommandError):
        call_command("create_admin", district_code="330106000000", district_name="西湖区")
    assert not Region.objects.exists()


def test_create_admin_refuses_a_street_code(monkeypatch: Any) -> None:
    monkeypatch.setenv("SANSHE_ADMIN_PASSWORD", "Strong-admin-2026")
    with pytest.raises(CommandError, match="区划代码"):
        call_command("create_admin", district_code="330106001000", district_name="某街道")
