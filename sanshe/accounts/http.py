"""Typing for views behind the sign-in middleware: the request always has a real user."""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from sanshe.accounts.models import User


class AuthedRequest(HttpRequest):
    user: User
    htmx: HtmxDetails
