"""Writes for accounts: sign-in with lock-out, API tokens, two-step verification, users,
memberships, organisations and regions."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

import pyotp
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.http import HttpRequest
from django.utils import timezone

from sanshe.accounts.models import (
    PARENT_LEVEL,
    PREFIX_LENGTH,
    ApiToken,
    Membership,
    Organization,
    Region,
    RegionLevel,
    Role,
    User,
    level_of_code,
)
from sanshe.core.audit import record_event
from sanshe.core.crypto import id_cipher
from sanshe.core.errors import UserError
from sanshe.core.models import AuditAction
from sanshe.lib.phone import PhoneError, normalize_phone

WRONG_PASSWORD = "用户名或密码错误"


def locked_message(user: User) -> str:
    until = timezone.localtime(user.locked_until).strftime("%H:%M") if user.locked_until else ""
    return f"密码错误次数过多，账号已锁定，请于 {until} 后再试或联系管理员解锁"


def sign_in(request: HttpRequest | None, *, login: str, password: str) -> User:
    """Check a password, counting failures and locking the account after too many in a row."""
    login = (login or "").strip()
    user = User.objects.filter(Q(username=login) | Q(mobile=login)).first() if login else None
    if user is not None and user.is_locked():
        record_event(None, AuditAction.LOGIN_FAILED, request=request, subject=user.username, reason="账号已锁定")
        raise UserError(locked_message(user))
    authenticated = authenticate(request, username=login, password=password)
    if authenticated is None:
        if user is not None:
            _count_failure(user, request)
            user.refresh_from_db(fields=["locked_until"])
            if user.is_locked():
                raise UserError(locked_message(user))
        else:
            record_event(None, AuditAction.LOGIN_FAILED, request=request, subject=login[:50])
        raise UserError(WRONG_PASSWORD)
    if not isinstance(authenticated, User):
        raise UserError(WRONG_PASSWORD)
    if authenticated.failed_login_count:
        User.objects.filter(pk=authenticated.pk).update(failed_login_count=0, locked_until=None)
    return authenticated


def _count_failure(user: User, request: HttpRequest | None) -> None:
    # A conditional UPDATE, so parallel attempts cannot lose a count.
    User.objects.filter(pk=user.pk).update(failed_login_count=F("failed_login_count") + 1)
    user.refresh_from_db(fields=["failed_login_count"])
    record_event(None, AuditAction.LOGIN_FAILED, request=request, subject=user.username)
    if user.failed_login_count >= settings.LOCKOUT_FAILURES:
        until = timezone.now() + dt.timedelta(minutes=settings.LOCKOUT_MINUTES)
        User.objects.filter(pk=user.pk).update(locked_until=until, failed_login_count=0)
        record_event(None, AuditAction.ACCOUNT_LOCKED, request=request, subject=user.username)


def unlock_user(user: User, *, acting_user: Any) -> None:
    User.objects.filter(pk=user.pk).update(locked_until=None, failed_login_count=0)
    record_event(acting_user, AuditAction.MANAGE_ACCOUNTS, subject=user.username, reason="解除锁定")


# Two-step verification (TOTP, RFC 6238), optional, offered to every user and meant for admins.


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name="三社联动养老服务平台")


def verify_totp(user: User, code: str) -> bool:
    if not user.totp_secret:
        return False
    secret = id_cipher().decrypt(user.totp_secret)
    return pyotp.TOTP(secret).verify((code or "").strip(), valid_window=1)


def enable_totp(user: User, *, secret: str, code: str, request: HttpRequest | None = None) -> None:
    if not pyotp.TOTP(secret).verify((code or "").strip(), valid_window=1):
        raise UserError("验证码不正确，请确认手机时间准确后重试", field="code")
    user.totp_secret = id_cipher().encrypt(secret)
    user.totp_enabled_at = timezone.now()
    user.save(update_fields=["totp_secret", "totp_enabled_at"])
    record_event(user, AuditAction.TOTP_ENABLED, request=request, subject=user.username)


def disable_totp(user: User, *, code: str, request: HttpRequest | None = None) -> None:
    if not verify_totp(user, code):
        raise UserError("验证码不正确", field="code")
    user.totp_secret = ""
    user.totp_enabled_at = None
    user.save(update_fields=["totp_secret", "totp_enabled_at"])
    record_event(user, AuditAction.TOTP_DISABLED, request=request, subject=user.username)


# API tokens: the plaintext is returned once; only its hash is kept.


def _hash_token(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_api_token(user: User, *, request: HttpRequest | None = None) -> tuple[str, ApiToken]:
    key = "ss_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, key_hash=_hash_token(key), expires_at=timezone.now() + dt.timedelta(days=settings.API_TOKEN_DAYS)
    )
    record_event(user, AuditAction.API_TOKEN, request=request, subject=user.username)
    return key, token


def user_for_token(key: str) -> User | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_hash_token(key), revoked_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


# Users, memberships, organisations.


def create_user(
    *,
    username: str,
    password: str,
    full_name: str,
    mobile: str = "",
    acting_user: Any = None,
    check_password: bool = True,
) -> User:
    username = username.strip()
    if not username:
        raise UserError("请填写用户名", field="username")
    if User.objects.filter(username=username).exists():
        raise UserError(f"用户名“{username}”已被使用", field="username")
    normalized = ""
    if mobile:
        try:
            normalized = normalize_phone(mobile)
        except PhoneError as exc:
            raise UserError(str(exc), field="mobile") from None
        if len(normalized) != 11:
            raise UserError("请填写11位手机号", field="mobile")
        if User.objects.filter(mobile=normalized).exists():
            raise UserError("该手机号已绑定其他账号", field="mobile")
    user = User(username=username, full_name=full_name.strip(), mobile=normalized or None)
    if check_password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise UserError("；".join(exc.messages), field="password") from None
    user.set_password(password)
    user.save()
    if acting_user is not None:
        record_event(acting_user, AuditAction.MANAGE_ACCOUNTS, subject=username, reason="新建账号")
    return user


def add_membership(user: User, *, organization: Organization, role: str, acting_user: Any = None) -> Membership:
    if role not in Role.values:
        raise UserError("角色无效", field="role")
    membership, created = Membership.objects.get_or_create(user=user, organization=organization, role=role)
    if not created and not membership.is_active:
        membership.is_active = True
        membership.save(update_fields=["is_active"])
    if acting_user is not None:
        record_event(acting_user, AuditAction.MANAGE_ACCOUNTS, subject=user.username,
                     reason=f"任职：{organization.name} · {Role(role).label}")
    return membership


def end_membership(membership: Membership, *, acting_user: Any) -> None:
    membership.is_active = False
    membership.save(update_fields=["is_active"])
    record_event(acting_user, AuditAction.MANAGE_ACCOUNTS, subject=membership.user.username,
                 reason=f"终止任职：{membership}")


def create_organization(*, name: str, kind: str, region: Region, acting_user: Any = None, **extra: Any) -> Organization:
    name = name.strip()
    if not name:
        raise UserError("请填写组织名称", field="name")
    if Organization.objects.filter(name=name).exists():
        raise UserError(f"组织“{name}”已存在", field="name")
    org = Organization.objects.create(name=name, kind=kind, region=region, **extra)
    if acting_user is not None:
        record_event(acting_user, AuditAction.MANAGE_ACCOUNTS, subject=name, reason="新建组织")
    return org


# Regions: keyed by 12-digit statistical division codes.


def parse_region_code(raw: Any) -> str:
    code = str(raw or "").strip()
    if code.endswith(".0"):  # spreadsheets turn long numbers into floats
        code = code[:-2]
    if not code.isdigit() or len(code) not in (6, 9, 12):
        raise UserError(f"区划代码“{raw}”应为12位数字（可省略末尾的0）", field="code")
    return code.ljust(12, "0")


def find_parent(code: str) -> Region | None:
    level = level_of_code(code)
    parent_level = PARENT_LEVEL.get(level)
    if parent_level is None:
        return None
    parent_code = code[: PREFIX_LENGTH[parent_level]].ljust(12, "0")
    return Region.objects.filter(code=parent_code).first()


def save_region(*, code: str, name: str, code_year: int | None = None, acting_user: Any = None) -> tuple[Region, bool]:
    """Create a region or rename an existing one; the parent is found from the code."""
    code = parse_region_code(code)
    name = (name or "").strip()
    if not name:
        raise UserError(f"区划代码 {code} 缺少名称", field="name")
    level = level_of_code(code)
    parent = find_parent(code)
    if parent is None and level not in (RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.DISTRICT):
        raise UserError(f"区划代码 {code} 的上级区划不存在，请先导入上级", field="code")
    region = Region.objects.filter(code=code).first()
    created = region is None
    if region is None:
        region = Region(code=code, level=level, parent=parent)
    region.name = name
    if code_year:
        region.code_year = code_year
    region.full_clean(exclude=["next_file_seq"])
    region.save()
    if acting_user is not None:
        record_event(acting_user, AuditAction.MANAGE_REGIONS, subject=f"{code} {name}",
                     reason="新增区划" if created else "修改区划")
    return region, created


@transaction.atomic
def import_regions(rows: list[tuple[Any, Any]], *, acting_user: Any, code_year: int | None = None) -> dict[str, Any]:
    """Import (code, name) rows, parents before children; all or nothing, with row errors."""
    parsed: list[tuple[int, str, str]] = []
    errors: list[str] = []
    for number, (raw_code, raw_name) in enumerate(rows, start=2):
        try:
            parsed.append((number, parse_region_code(raw_code), str(raw_name or "").strip()))
        except UserError as exc:
            errors.append(f"第{number}行：{exc.message}")
    parsed.sort(key=lambda r: (PREFIX_LENGTH[level_of_code(r[1])], r[1]))
    created = updated = 0
    for number, code, name in parsed:
        try:
            with transaction.atomic():
                _, was_created = save_region(code=code, name=name, code_year=code_year)
        except (UserError, ValidationError) as exc:
            message = exc.message if isinstance(exc, UserError) else "；".join(exc.messages)
            errors.append(f"第{number}行：{message}")
            continue
        created += was_created
        updated += not was_created
    if errors:
        transaction.set_rollback(True)
        return {"created": 0, "updated": 0, "errors": errors}
    record_event(acting_user, AuditAction.MANAGE_REGIONS, subject="区划导入", row_count=created + updated)
    return {"created": created, "updated": updated, "errors": []}
