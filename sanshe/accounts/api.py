"""API: tokens, regions, organisations, users and memberships."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from ninja.security import HttpBearer

from sanshe.accounts import actions
from sanshe.accounts.access import (
    access_region,
    capability_scope,
    visible_organizations,
    visible_regions,
    visible_users,
)
from sanshe.accounts.models import Capability, OrganizationKind, Role
from sanshe.accounts.queries import search_audit_events
from sanshe.core.audit import record_event
from sanshe.core.errors import UserError
from sanshe.core.models import AuditAction

router = Router(tags=["账号与区划"])


class BearerAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = actions.user_for_token(token)
        if user is not None:
            request.user = user
        return user


def require(request: HttpRequest, capability: Capability) -> None:
    from django.core.exceptions import PermissionDenied

    if not capability_scope(request.user, capability):
        raise PermissionDenied("无权执行此操作")


class TokenIn(Schema):
    username: str
    password: str
    totp_code: str = ""


class TokenOut(Schema):
    token: str
    token_type: str = "Bearer"
    expires_at: str


@router.post("/auth/token", auth=None, response=TokenOut, summary="以用户名（或手机号）和密码获取令牌")
def create_token(request: HttpRequest, payload: TokenIn) -> dict[str, Any]:
    try:
        user = actions.sign_in(request, login=payload.username, password=payload.password)
    except UserError as exc:
        raise HttpError(401, exc.message) from None
    if user.totp_enabled and not actions.verify_totp(user, payload.totp_code):
        raise HttpError(401, "该账号已启用两步验证，请提供正确的 totp_code")
    key, token = actions.issue_api_token(user, request=request)

    record_event(user, AuditAction.LOGIN, request=request, subject=user.username)
    return {"token": key, "expires_at": token.expires_at.isoformat()}


class RegionOut(Schema):
    id: int
    code: str
    name: str
    level: str
    parent_id: int | None


class RegionIn(Schema):
    code: str
    name: str
    code_year: int | None = None


@router.get("/regions", response=list[RegionOut], summary="辖区内的区划")
def list_regions(request: HttpRequest, level: str = "") -> Any:
    scope_cap = Capability.MANAGE_REGIONS if capability_scope(request.user, Capability.MANAGE_REGIONS) else Capability.VIEW_PEOPLE
    qs = visible_regions(request.user, scope_cap)
    if level:
        qs = qs.filter(level=level)
    return list(qs)


@router.post("/regions", response={201: RegionOut}, summary="新增或更名区划")
def save_region(request: HttpRequest, payload: RegionIn) -> Any:
    require(request, Capability.MANAGE_REGIONS)
    code = actions.parse_region_code(payload.code)
    if not capability_scope(request.user, Capability.MANAGE_REGIONS).covers(code):
        raise UserError("该区划不在您的管辖范围内", field="code")
    region, _ = actions.save_region(code=code, name=payload.name, code_year=payload.code_year, acting_user=request.user)
    return Status(201, region)


class OrganizationOut(Schema):
    id: int
    name: str
    kind: str
    region_id: int
    is_active: bool


class OrganizationIn(Schema):
    name: str
    kind: OrganizationKind
    region_id: int
    contact_phone: str = ""
    address: str = ""


@router.get("/organizations", response=list[OrganizationOut], summary="组织列表")
def list_organizations(request: HttpRequest) -> Any:
    require(request, Capability.MANAGE_ACCOUNTS)
    return list(visible_organizations(request.user))


@router.post("/organizations", response={201: OrganizationOut}, summary="新建组织")
def create_organization(request: HttpRequest, payload: OrganizationIn) -> Any:
    require(request, Capability.MANAGE_ACCOUNTS)
    region = access_region(request.user, payload.region_id, Capability.MANAGE_ACCOUNTS)
    org = actions.create_organization(
        name=payload.name, kind=payload.kind, region=region, acting_user=request.user,
        contact_phone=payload.contact_phone, address=payload.address,
    )
    return Status(201, org)


class MembershipOut(Schema):
    id: int
    organization_id: int
    organization: str
    role: str
    is_active: bool

    @staticmethod
    def resolve_organization(obj: Any) -> str:
        return str(obj.organization.name)


class UserOut(Schema):
    id: int
    username: str
    full_name: str
    is_active: bool
    totp_enabled: bool
    memberships: list[MembershipOut]

    @staticmethod
    def resolve_memberships(obj: Any) -> list[Any]:
        return list(obj.memberships.select_related("organization"))


class UserIn(Schema):
    username: str
    password: str
    full_name: str
    mobile: str = ""
    organization_id: int
    role: Role


@router.get("/users", response=list[UserOut], summary="账号列表")
def list_users(request: HttpRequest) -> Any:
    require(request, Capability.MANAGE_ACCOUNTS)
    return list(visible_users(request.user).order_by("username"))


@router.post("/users", response={201: UserOut}, summary="新建账号并任职")
def create_user(request: HttpRequest, payload: UserIn) -> Any:
    require(request, Capability.MANAGE_ACCOUNTS)
    org = visible_organizations(request.user).filter(pk=payload.organization_id).first()
    if org is None:
        raise UserError("组织不存在或不在您的管辖范围内", field="organization_id")
    from django.db import transaction

    with transaction.atomic():
        user = actions.create_user(
            username=payload.username, password=payload.password, full_name=payload.full_name,
            mobile=payload.mobile, acting_user=request.user,
        )
        actions.add_membership(user, organization=org, role=payload.role, acting_user=request.user)
    return Status(201, user)


@router.get("/me", response=UserOut, summary="当前账号")
def me(request: HttpRequest) -> Any:
    return request.user



class AuditEventOut(Schema):
    id: int
    at: dt.datetime
    actor_name: str
    action: str
    action_label: str
    channel: str
    person_id: int | None
    subject: str
    reason: str
    row_count: int | None
    ip_address: str | None

    @staticmethod
    def resolve_action_label(obj: Any) -> str:
        return str(obj.get_action_display())


@router.get("/audit-events", tags=["审计"], response=list[AuditEventOut], summary="查询审计日志（审计员）")
def list_audit_events(
    request: HttpRequest,
    actor: str = "",
    action: str = "",
    person_id: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Any:
    qs = search_audit_events(
        request.user, actor=actor, action=action, person_id=person_id, date_from=date_from, date_to=date_to
    )
    limit = max(1, min(limit, 500))
    record_event(request.user, AuditAction.SEARCH_AUDIT, request=request,
                 detail={"actor": actor, "action": action, "person_id": person_id})
    return list(qs[offset : offset + limit])
