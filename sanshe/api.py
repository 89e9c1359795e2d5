"""The REST API root (/api/v1/): bearer-token auth, Chinese errors, routers from the apps."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from sanshe.accounts.api import BearerAuth
from sanshe.accounts.api import router as accounts_router
from sanshe.assessments.api import router as assessments_router
from sanshe.assessments.api_workflow import router as assessment_workflow_router
from sanshe.catalog.api import router as catalog_router
from sanshe.core.errors import UserError, ValidationFailed
from sanshe.dispatch.api import router as dispatch_router
from sanshe.dispatch.route_api import router as routes_router
from sanshe.eligibility.api import router as eligibility_router
from sanshe.orders.api import router as orders_router
from sanshe.orders.api.delivery import router as delivery_router
from sanshe.people.api import router as people_router

api = NinjaAPI(
    title="三社联动养老服务平台 API",
    version="1",
    description="所有接口使用 Bearer 令牌认证：先以用户名和密码调用 POST /api/v1/auth/token 获取令牌。",
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
    auth=BearerAuth(),
)
api.add_router("/", accounts_router)
api.add_router("/", people_router)
api.add_router("/", assessments_router)
api.add_router("/", assessment_workflow_router)
api.add_router("/", eligibility_router)
api.add_router("/", orders_router)
api.add_router("/", delivery_router)
api.add_router("/", catalog_router)
api.add_router("/", dispatch_router)
api.add_router("/", routes_router)


def _error(request: HttpRequest, status: int, detail: str, **extra: Any) -> HttpResponse:
    return api.create_response(request, {"detail": detail, **extra}, status=status)


@api.exception_handler(ValidationFailed)
def on_validation_failed(request: HttpRequest, exc: ValidationFailed) -> HttpResponse:
    return _error(request, 400, exc.message, field=exc.field, errors=exc.errors)


@api.exception_handler(UserError)
def on_user_error(request: HttpRequest, exc: UserError) -> HttpResponse:
    return _error(request, 400, exc.message, field=exc.field)


@api.exception_handler(NinjaValidationError)
def on_schema_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", [])]
        while loc and loc[0] in ("body", "query", "path", "payload", "form"):
            loc.pop(0)
        if len(loc) > 1 and loc[0] == "file":  # multipart files: ("file", <field name>)
            loc.pop(0)
        field = ".".join(loc) or "请求"
        errors.setdefault(field, []).append(_translate(err))
    first_field, messages = next(iter(errors.items()))
    return _error(request, 400, f"{first_field}：{messages[0]}", field=first_field, errors=errors)


def _translate(err: dict[str, Any]) -> str:
    kind = str(err.get("type", ""))
    table = {
        "missing": "必填",
        "string_type": "应为文本",
        "int_parsing": "应为整数",
        "int_type": "应为整数",
        "bool_parsing": "应为 true 或 false",
        "bool_type": "应为 true 或 false",
        "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
        "date_parsing": "应为日期（YYYY-MM-DD）",
        "date_type": "应为日期（YYYY-MM-DD）",
        "decimal_parsing": "应为数字",
        "decimal_type": "应为数字",
        "literal_error": "取值不在允许范围内",
        "enum": "取值不在允许范围内",
        "string_too_long": "内容过长",
        "string_too_short": "内容过短",
        "json_invalid": "请求体不是有效的 JSON",
        "model_attributes_type": "请求体格式不正确",
        "dict_type": "请求体格式不正确",
        "list_type": "应为列表",
        "extra_forbidden": "不支持该字段",
        "greater_than_equal": "数值过小",
        "less_than_equal": "数值过大",
    }
    return table.get(kind, "格式不正确")


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, str(exc) or "未找到")


@api.exception_handler(PermissionDenied)
def on_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _error(request, 403, str(exc) or "无权执行此操作")


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "未登录或令牌无效，请先调用 POST /api/v1/auth/token 获取令牌")


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, str(exc))
