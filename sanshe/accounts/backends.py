from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.db.models import Q
from django.http import HttpRequest

from sanshe.accounts.models import User


class UsernameOrMobileBackend(ModelBackend):
    """Sign in with the username or the mobile number. Lock-out is handled in accounts.actions."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        if not username or not password:
            return None
        user = User.objects.filter(Q(username=username) | Q(mobile=username)).first()
        if user is None:
            User().set_password(password)  # same work as a real check, so timing reveals nothing
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
