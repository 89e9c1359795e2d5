from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse

# The API authenticates with bearer tokens; static assets and the login pages are public.
PUBLIC_PREFIXES = ("/api/", "/static/", "/login", "/healthz", "/favicon.ico")


def login_not_required(view: Callable[..., Any]) -> Callable[..., Any]:
    view.login_not_required = True  # type: ignore[attr-defined]
    return view


class LoginRequiredMiddleware:
    """Every page needs a signed-in user unless it is public by path or by decorator."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Callable[..., Any], *args: Any) -> HttpResponse | None:
        if request.user.is_authenticated or getattr(view_func, "login_not_required", False):
            return None
        if request.path.startswith(PUBLIC_PREFIXES):
            return None
        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
