"""Sign-in, the home page of each role, the user's own account, regions, organisations,
users and the audit log."""

from __future__ import annotations

from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from sanshe.accounts import actions
from sanshe.accounts.access import (
    capability_scope,
    has_capability,
    visible_organizations,
    visible_regions,
    visible_users,
)
from sanshe.accounts.forms import (
    AuditFilterForm,
    LoginForm,
    MembershipForm,
    OrganizationForm,
    RegionForm,
    RegionImportForm,
    TotpForm,
)
from sanshe.accounts.forms import UserForm as NewUserForm
from sanshe.accounts.http import AuthedRequest
from sanshe.accounts.models import Capability, Membership, Region, RegionLevel, User
from sanshe.accounts.queries import search_audit_events
from sanshe.core.audit import record_event
from sanshe.core.errors import UserError
from sanshe.core.middleware import login_not_required
from sanshe.core.models import AuditAction

PENDING_TOTP = "sanshe_pending_totp_user"


def _require(request: AuthedRequest, capability: Capability) -> None:
    if not has_capability(request.user, capability):
        raise PermissionDenied("您没有此项权限")


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return "/"


@login_not_required
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


@login_not_required
def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = actions.sign_in(request, login=form.cleaned_data["login"], password=form.cleaned_data["password"])
        except UserError as exc:
            form.add_error(None, exc.message)
        else:
            if user.totp_enabled:
                request.session[PENDING_TOTP] = user.pk
                return redirect(f"/login/verify/?next={_safe_next(request)}")
            login(request, user)
            record_event(user, AuditAction.LOGIN, request=request, subject=user.username)
            return redirect(_safe_next(request))
    return render(request, "accounts/login.html", {"form": form, "next": request.GET.get("next", "")})


@login_not_required
def login_totp(request: HttpRequest) -> HttpResponse:
    pending = request.session.get(PENDING_TOTP)
    user = User.objects.filter(pk=pending).first() if pending else None
    if user is None:
        return redirect("login")
    form = TotpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if actions.verify_totp(user, form.cleaned_data["code"]):
            del request.session[PENDING_TOTP]
            login(request, user)
            record_event(user, AuditAction.LOGIN, request=request, subject=user.username, detail={"totp": True})
            return redirect(_safe_next(request))
        form.add_error("code", "验证码不正确或已过期")
        record_event(None, AuditAction.LOGIN_FAILED, request=request, subject=user.username, reason="两步验证码错误")
    return render(request, "accounts/login_totp.html", {"form": form, "next": request.GET.get("next", "")})


@require_POST
def logout_view(request: AuthedRequest) -> HttpResponse:
    record_event(request.user, AuditAction.LOGOUT, request=request, subject=request.user.get_username())
    logout(request)
    messages.info(request, "您已安全退出")
    return redirect("login")


def profile(request: AuthedRequest) -> HttpResponse:
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        update_session_auth_hash(request, form.user)
        messages.success(request, "密码已修改")
        return redirect("profile")
    return render(request, "accounts/profile.html", {
        "form": form,
        "memberships": Membership.objects.filter(user=request.user, is_active=True).select_related("organization"),
    })


def totp_setup(request: AuthedRequest) -> HttpResponse:
    user = request.user
    form = TotpForm(request.POST or None)
    if user.totp_enabled:
        if request.method == "POST" and form.is_valid():
            try:
                actions.disable_totp(user, code=form.cleaned_data["code"], request=request)
            except UserError as exc:
                form.add_error("code", exc.message)
            else:
                messages.success(request, "两步验证已停用")
                return redirect("profile")
        return render(request, "accounts/totp.html", {"form": form, "enabled": True})
    secret = request.session.get("sanshe_totp_secret") or actions.new_totp_secret()
    request.session["sanshe_totp_secret"] = secret
    if request.method == "POST" and form.is_valid():
        try:
            actions.enable_totp(user, secret=secret, code=form.cleaned_data["code"], request=request)
        except UserError as exc:
            form.add_error("code", exc.message)
        else:
            del request.session["sanshe_totp_secret"]
            messages.success(request, "两步验证已启用，下次登录需输入动态验证码")
            return redirect("profile")
    qr_svg = segno.make(actions.totp_uri(user, secret), error="m").svg_inline(scale=4)
    return render(request, "accounts/totp.html", {"form": form, "enabled": False, "secret": secret, "qr_svg": qr_svg})


def regions(request: AuthedRequest) -> HttpResponse:
    _require(request, Capability.MANAGE_REGIONS)
    scope = capability_scope(request.user, Capability.MANAGE_REGIONS)
    form = RegionForm(request.POST if request.POST.get("form") == "single" else None)
    import_form = RegionImportForm(
        request.POST if request.POST.get("form") == "import" else None,
        request.FILES if request.POST.get("form") == "import" else None,
    )
    import_errors: list[str] = []
    if request.method == "POST" and request.POST.get("form") == "single" and form.is_valid():
        try:
            code = actions.parse_region_code(form.cleaned_data["code"])
            if not scope.covers(code):
                raise UserError("该区划不在您的管辖范围内", field="code")
            with transaction.atomic():
                _, created = actions.save_region(code=code, name=form.cleaned_data["name"], acting_user=request.user)
        except UserError as exc:
            form.add_error("code" if exc.field == "code" else None, exc.message)
        except Exception as exc:  # model validation
            from django.core.exceptions import ValidationError

            if not isinstance(exc, ValidationError):
                raise
            form.add_error(None, "；".join(exc.messages))
        else:
            messages.success(request, "区划已新增" if created else "区划名称已更新")
            return redirect("regions")
    if request.method == "POST" and request.POST.get("form") == "import" and import_form.is_valid():
        rows, problem = _read_region_rows(import_form.cleaned_data["file"])
        outside = [f"{code}" for code, _ in rows if code and not scope.covers(str(code).strip().ljust(12, "0"))]
        if problem:
            import_errors = [problem]
        elif outside:
            import_errors = [f"以下区划不在您的管辖范围内：{'、'.join(str(c) for c in outside[:10])}"]
        else:
            result = actions.import_regions(rows, acting_user=request.user)
            import_errors = result["errors"]
            if not import_errors:
                messages.success(request, f"区划导入完成：新增 {result['created']} 个，更新 {result['updated']} 个")
                return redirect("regions")
    tree = (
        Region.objects.filter(scope.region_q())
        .exclude(level__in=[RegionLevel.PROVINCE, RegionLevel.CITY])
        .annotate(people=Count("residents"))
        .order_by("code")
    )
    return render(request, "accounts/regions.html", {
        "tree": tree, "form": form, "import_form": import_form, "import_errors": import_errors,
    })


def _read_region_rows(upload: Any) -> tuple[list[tuple[Any, Any]], str]:
    from python_calamine import CalamineWorkbook

    if not (upload.name or "").lower().endswith(".xlsx"):
        return [], "请上传 .xlsx 格式的文件"
    try:
        sheet = CalamineWorkbook.from_filelike(upload).get_sheet_by_index(0).to_python()
    except Exception:  # a corrupt or non-Excel file
        return [], "无法读取该文件，请确认是有效的 .xlsx 文件"
    rows = [(r[0], r[1] if len(r) > 1 else "") for r in sheet[1:] if r and str(r[0]).strip()]
    if not rows:
        return [], "文件中没有数据行"
    return rows, ""


def organizations(request: AuthedRequest) -> HttpResponse:
    _require(request, Capability.MANAGE_ACCOUNTS)
    regions_qs = visible_regions(request.user, Capability.MANAGE_ACCOUNTS).exclude(
        level__in=[RegionLevel.PROVINCE, RegionLevel.CITY]
    )
    form = OrganizationForm(request.POST or None, regions=regions_qs)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.create_organization(
                name=data["name"], kind=data["kind"], region=data["region"], acting_user=request.user,
                contact_phone=data["contact_phone"], address=data["address"],
            )
        except UserError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"组织“{data['name']}”已创建")
            return redirect("organizations")
    orgs = visible_organizations(request.user).annotate(members=Count("memberships", filter=Q(memberships__is_active=True)))
    return render(request, "accounts/organizations.html", {"form": form, "organizations": orgs})


def users(request: AuthedRequest) -> HttpResponse:
    _require(request, Capability.MANAGE_ACCOUNTS)
    form = NewUserForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                new_user = actions.create_user(
                    username=data["username"], password=data["password"], full_name=data["full_name"],
                    mobile=data["mobile"], acting_user=request.user,
                )
                actions.add_membership(new_user, organization=data["organization"], role=data["role"],
                                       acting_user=request.user)
        except UserError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"账号 {new_user.username} 已创建")
            return redirect("user_detail", user_id=new_user.pk)
    people = visible_users(request.user).prefetch_related("memberships__organization").order_by("username")
    return render(request, "accounts/users.html", {"form": form, "people": people, "now": timezone.now()})


def user_detail(request: AuthedRequest, user_id: int) -> HttpResponse:
    _require(request, Capability.MANAGE_ACCOUNTS)
    from django.shortcuts import get_object_or_404

    target = get_object_or_404(visible_users(request.user), pk=user_id)
    form = MembershipForm(request.POST if request.POST.get("form") == "membership" else None, user=request.user)
    if request.method == "POST":
        op = request.POST.get("form")
        if op == "membership" and form.is_valid():
            actions.add_membership(target, organization=form.cleaned_data["organization"],
                                   role=form.cleaned_data["role"], acting_user=request.user)
            messages.success(request, "任职已添加")
            return redirect("user_detail", user_id=target.pk)
        if op == "end":
            membership = Membership.objects.filter(
                pk=request.POST.get("membership") or 0, user=target, organization__in=visible_organizations(request.user)
            ).first()
            if membership is not None:
                actions.end_membership(membership, acting_user=request.user)
                messages.success(request, "任职已终止")
            return redirect("user_detail", user_id=target.pk)
        if op == "unlock":
            actions.unlock_user(target, acting_user=request.user)
            messages.success(request, "账号已解锁")
            return redirect("user_detail", user_id=target.pk)
    return render(request, "accounts/user_detail.html", {
        "target": target, "form": form,
        "memberships": target.memberships.select_related("organization__region").order_by("-is_active", "id"),
    })


def audit(request: AuthedRequest) -> HttpResponse:
    _require(request, Capability.VIEW_AUDIT)
    form = AuditFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_valid():
        filters = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
    qs = search_audit_events(request.user, **filters)
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    rows = list(qs.select_related("actor")[(page - 1) * 50 : page * 50 + 1])
    record_event(request.user, AuditAction.SEARCH_AUDIT, request=request,
                 detail={k: str(v) for k, v in filters.items()})
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "accounts/audit.html", {
        "form": form, "events": rows[:50], "has_next": len(rows) > 50, "page": page, "query": query.urlencode(),
    })


