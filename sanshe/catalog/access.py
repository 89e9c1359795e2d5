"""Who acts for which provider: a provider membership (manager or caregiver) scopes everything a
provider's people do to that provider's own staff, plans and orders."""

from __future__ import annotations

from typing import Any

from sanshe.accounts.access import active_memberships
from sanshe.accounts.models import ROLE_CAPABILITIES, Capability, OrganizationKind
from sanshe.catalog.models import Caregiver


def provider_ids_of(user: Any, capability: Capability = Capability.RUN_PROVIDER) -> set[int]:
    """Providers the user holds the capability for through an active provider membership."""
    return {
        m.organization_id
        for m in active_memberships(user)
        if m.organization.kind == OrganizationKind.PROVIDER and capability in ROLE_CAPABILITIES.get(m.role, frozenset())
    }


def caregiver_of(user: Any) -> Caregiver | None:
    """The caregiver record of a signed-in caregiver, when it is active and their membership is."""
    if not provider_ids_of(user, Capability.DELIVER_SERVICE):
        return None
    return Caregiver.objects.filter(user=user, is_active=True, provider__in=provider_ids_of(
        user, Capability.DELIVER_SERVICE)).select_related("provider").first()
