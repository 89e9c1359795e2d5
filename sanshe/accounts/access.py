"""Who may do what, where: capabilities from roles, scope from the region tree.

Every permission question about regions goes through here; people/access.py builds on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from sanshe.accounts.models import ROLE_CAPABILITIES, Capability, Membership, Organization, Region, Role, User


@dataclass(frozen=True, slots=True)
class Scope:
    """The region-code prefixes a capability is held for; empty means nowhere."""

    prefixes: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.prefixes)

    def covers(self, code: str) -> bool:
        return any(code.startswith(p) for p in self.prefixes)

    def region_q(self, field: str = "code") -> Q:
        q = Q(pk__in=[])
        for prefix in self.prefixes:
            q |= Q(**{f"{field}__startswith": prefix})
        return q


def _active_memberships(user: Any) -> list[Membership]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    cached: list[Membership] | None = getattr(user, "_sanshe_memberships", None)
    if cached is None:
        cached = list(
            Membership.objects.filter(user=user, is_active=True, organization__is_active=True).select_related(
                "organization__region"
            )
        )
        user._sanshe_memberships = cached
    return cached


def active_memberships(user: Any) -> list[Membership]:
    """The user's active memberships of active organisations (cached on the user object)."""
    return _active_memberships(user)


def roles_of(user: Any) -> set[str]:
    return {m.role for m in _active_memberships(user)}


def capability_scope(user: Any, capability: Capability) -> Scope:
    """The regions where the user holds a capability through any active membership."""
    prefixes = {
        m.organization.region.prefix
        for m in _active_memberships(user)
        if capability in ROLE_CAPABILITIES.get(m.role, frozenset())
    }
    # Drop prefixes already covered by a shorter one (a district covers its streets).
    kept = tuple(sorted(p for p in prefixes if not any(p != o and p.startswith(o) for o in prefixes)))
    return Scope(kept)


def has_capability(user: Any, capability: Capability) -> bool:
    return bool(capability_scope(user, capability))


def capabilities_of(user: Any) -> set[str]:
    return {c for m in _active_memberships(user) for c in ROLE_CAPABILITIES.get(m.role, frozenset())}


def visible_regions(user: Any, capability: Capability = Capability.VIEW_PEOPLE) -> QuerySet[Region]:
    scope = capability_scope(user, capability)
    return Region.objects.filter(scope.region_q()).order_by("code")


def community_ids_in_scope(user: Any, capability: Capability = Capability.VIEW_PEOPLE) -> list[int]:
    """Ids of the communities (and any other regions) inside the user's scope, cached per user object."""
    cache: dict[str, list[int]] = user.__dict__.setdefault("_sanshe_region_ids", {})
    if capability not in cache:
        cache[capability] = list(visible_regions(user, capability).values_list("id", flat=True))
    return cache[capability]


def access_region(user: Any, region_id: int, capability: Capability = Capability.VIEW_PEOPLE) -> Region:
    """A region the user may work in; missing and out of scope both give 404."""
    region = Region.objects.filter(pk=region_id).first()
    if region is None or not capability_scope(user, capability).covers(region.code):
        raise Http404("没有找到该区划")
    return region


def visible_organizations(user: Any) -> QuerySet[Organization]:
    scope = capability_scope(user, Capability.MANAGE_ACCOUNTS)
    return Organization.objects.filter(scope.region_q("region__code")).select_related("region")


def visible_users(user: Any) -> QuerySet[User]:
    orgs = visible_organizations(user)
    return User.objects.filter(memberships__organization__in=orgs).distinct()


def home_role(user: Any) -> str | None:
    """The role whose home page the user lands on (the most senior one they hold)."""
    held = roles_of(user)
    for role in Role:
        if role in held:
            return role
    return None
