from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from sanshe.accounts.access import capabilities_of, roles_of
from sanshe.accounts.models import Capability, Role


def platform(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    caps = capabilities_of(user) if user.is_authenticated else set()
    roles = roles_of(user) if user.is_authenticated else set()
    return {
        "PLATFORM_NAME": "三社联动养老服务平台",
        "DEMO_MODE": settings.DEMO_MODE,
        "caps": caps,
        "role_labels": [Role(r).label for r in Role if r in roles],
        "Capability": Capability,
    }
