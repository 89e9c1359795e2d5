"""Who acts for which provider: a provider membership (manager or caregiver) scopes everything a
provider's people do to that provider's own staff, plans and orders."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.http import Http404

from sanshe.accounts.access import active_memberships, capability_scope, has_capability
from sanshe.accounts.models import ROLE_CAPABILITIES, Capability, Organization, OrganizationKind, Region, RegionLevel
from sanshe.catalog.models import (
    Caregiver,
    CaregiverQualification,
    Contract,
    Facility,
    PriceList,
    ProviderLicence,
    ServiceItem,
)
from sanshe.core.lookups import get_or_404


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


# --- the catalogue, providers and staff ------------------------------------------------------------
# Reading the catalogue (items, prices, settings) is for whoever works with services in a district;
# writing it is for the district's civil-affairs bureau (MANAGE_CATALOG). A provider's own
# facilities and caregivers are also written by its manager (RUN_PROVIDER); its contracts and
# licences the manager only reads. Missing and not yours both 404; readable but not writable is 403.

ITEM_NOT_FOUND = "没有找到该服务项目"
PRICE_LIST_NOT_FOUND = "没有找到该价格表"
PROVIDER_NOT_FOUND = "没有找到该服务机构"
CONTRACT_NOT_FOUND = "没有找到该合同"
FACILITY_NOT_FOUND = "没有找到该服务设施"
CAREGIVER_NOT_FOUND = "没有找到该护理员"
LICENCE_NOT_FOUND = "没有找到该证照"
QUALIFICATION_NOT_FOUND = "没有找到该资质"
NOT_MANAGER = "您没有维护服务目录和服务机构的权限"
NOT_STAFF_MANAGER = "您没有维护该机构服务设施和人员的权限"

M = TypeVar("M", bound=Model)




def district_code_of(region: Region) -> str:
    """The 12-digit code of the district a region lies in."""
    return region.code[:6].ljust(12, "0")


def _district_q(prefixes: Iterable[str], field: str = "code") -> Q:
    """Districts a scope reaches: a street, community or provider scope reaches its district."""
    q = Q(pk__in=[])
    for prefix in prefixes:
        if len(prefix) >= 6:
            q |= Q(**{field: prefix[:6].ljust(12, "0")})
        else:
            q |= Q(**{f"{field}__startswith": prefix})
    return q


def readable_districts(user: Any) -> QuerySet[Region]:
    """Districts whose catalogue, prices and service settings the user reads."""
    prefixes = {p for c in (Capability.MANAGE_CATALOG, Capability.VIEW_SERVICES, Capability.RUN_PROVIDER)
                for p in capability_scope(user, c).prefixes}
    return Region.objects.filter(_district_q(prefixes), level=RegionLevel.DISTRICT).order_by("code")


def can_read_catalog(user: Any) -> bool:
    return readable_districts(user).exists()


def managed_districts(user: Any) -> QuerySet[Region]:
    """Districts whose catalogue, providers and contracts the user maintains (a district membership)."""
    scope = capability_scope(user, Capability.MANAGE_CATALOG)
    return Region.objects.filter(scope.region_q(), level=RegionLevel.DISTRICT).order_by("code")


def can_manage_catalog(user: Any, district: Region) -> bool:
    """The district's bureau keeps its catalogue, prices, providers and contracts."""
    return capability_scope(user, Capability.MANAGE_CATALOG).covers(district.code)


def require_manage_catalog(user: Any, district: Region) -> None:
    if not can_manage_catalog(user, district):
        raise PermissionDenied(NOT_MANAGER)


def visible_items(user: Any) -> QuerySet[ServiceItem]:
    return ServiceItem.objects.filter(district__in=readable_districts(user))


def access_item(user: Any, item_id: Any, *, for_write: bool = False) -> ServiceItem:
    """A service item the user may read (or, with for_write, change)."""
    item = get_or_404(visible_items(user).select_related("district"), item_id, ITEM_NOT_FOUND)
    if for_write:
        require_manage_catalog(user, item.district)
    return item


def visible_price_lists(user: Any) -> QuerySet[PriceList]:
    return PriceList.objects.filter(district__in=readable_districts(user))


def access_price_list(user: Any, price_list_id: Any, *, for_write: bool = False) -> PriceList:
    """A price list the user may read (or, with for_write, change)."""
    found = get_or_404(visible_price_lists(user).select_related("district", "created_by"), price_list_id,
                 PRICE_LIST_NOT_FOUND)
    if for_write:
        require_manage_catalog(user, found.district)
    return found


def visible_providers(user: Any) -> QuerySet[Organization]:
    """Providers of the districts the user manages, and the user's own provider."""
    scope = capability_scope(user, Capability.MANAGE_CATALOG)
    return Organization.objects.filter(
        scope.region_q("region__code") | Q(pk__in=provider_ids_of(user)), kind=OrganizationKind.PROVIDER
    )


def can_read_providers(user: Any) -> bool:
    return has_capability(user, Capability.MANAGE_CATALOG) or bool(provider_ids_of(user))


def can_manage_provider(user: Any, provider: Organization) -> bool:
    """Licences and contracts are the bureau's to write."""
    return capability_scope(user, Capability.MANAGE_CATALOG).covers(provider.region.code)


def can_manage_staff(user: Any, provider: Organization) -> bool:
    """Facilities and caregivers: the bureau, or the provider's own manager."""
    return can_manage_provider(user, provider) or provider.pk in provider_ids_of(user)


def access_provider(user: Any, provider_id: Any, *, for_write: bool = False, for_staff: bool = False) -> Organization:
    """A provider the user may see; for_write (licences) needs the bureau, for_staff the bureau or its manager."""
    provider = get_or_404(visible_providers(user).select_related("region"), provider_id, PROVIDER_NOT_FOUND)
    if for_write and not can_manage_provider(user, provider):
        raise PermissionDenied(NOT_MANAGER)
    if for_staff and not can_manage_staff(user, provider):
        raise PermissionDenied(NOT_STAFF_MANAGER)
    return provider


def access_licence(user: Any, licence_id: Any, *, for_write: bool = False) -> ProviderLicence:
    found = get_or_404(ProviderLicence.objects.filter(provider__in=visible_providers(user)).select_related(
        "provider__region"), licence_id, LICENCE_NOT_FOUND)
    if for_write and not can_manage_provider(user, found.provider):
        raise PermissionDenied(NOT_MANAGER)
    return found


def visible_contracts(user: Any) -> QuerySet[Contract]:
    """Contracts of the districts the user manages, and the user's own provider's (read-only)."""
    scope = capability_scope(user, Capability.MANAGE_CATALOG)
    return Contract.objects.filter(scope.region_q("district__code") | Q(provider__in=provider_ids_of(user)))


def access_contract(user: Any, contract_id: Any, *, for_write: bool = False) -> Contract:
    found = get_or_404(visible_contracts(user).select_related("district", "provider__region", "fund", "created_by"),
                 contract_id, CONTRACT_NOT_FOUND)
    if for_write:
        require_manage_catalog(user, found.district)
    return found


def visible_facilities(user: Any) -> QuerySet[Facility]:
    return Facility.objects.filter(provider__in=visible_providers(user))


def access_facility(user: Any, facility_id: Any, *, for_write: bool = False) -> Facility:
    found = get_or_404(visible_facilities(user).select_related("provider__region", "region"), facility_id,
                 FACILITY_NOT_FOUND)
    if for_write and not can_manage_staff(user, found.provider):
        raise PermissionDenied(NOT_STAFF_MANAGER)
    return found


def visible_caregivers(user: Any) -> QuerySet[Caregiver]:
    return Caregiver.objects.filter(provider__in=visible_providers(user))


def access_caregiver(user: Any, caregiver_id: Any, *, for_write: bool = False) -> Caregiver:
    found = get_or_404(visible_caregivers(user).select_related("provider__region", "station", "user"), caregiver_id,
                 CAREGIVER_NOT_FOUND)
    if for_write and not can_manage_staff(user, found.provider):
        raise PermissionDenied(NOT_STAFF_MANAGER)
    return found


def access_qualification(user: Any, qualification_id: Any, *, for_write: bool = False) -> CaregiverQualification:
    found = get_or_404(CaregiverQualification.objects.filter(caregiver__in=visible_caregivers(user)).select_related(
        "caregiver__provider__region"), qualification_id, QUALIFICATION_NOT_FOUND)
    if for_write and not can_manage_staff(user, found.caregiver.provider):
        raise PermissionDenied(NOT_STAFF_MANAGER)
    return found


def pick_district(districts: QuerySet[Region], code: str = "") -> Region:
    """The district asked for (by its code, or the user's only one) among those the user may use."""
    found = list(districts)
    if not found:
        raise PermissionDenied("您没有查看服务目录的权限")
    if code:
        chosen = next((d for d in found if d.code == code.strip().ljust(12, "0")), None)
        if chosen is None:
            raise Http404("没有找到该区县")
        return chosen
    return found[0]


def provider_districts(user: Any) -> QuerySet[Region]:
    """Districts whose providers the user sees: those the user manages, and their own provider's."""
    prefixes = set(capability_scope(user, Capability.MANAGE_CATALOG).prefixes)
    prefixes |= {district_code_of(o.region)[:6] for o in Organization.objects.filter(
        pk__in=provider_ids_of(user)).select_related("region")}
    return Region.objects.filter(_district_q(prefixes), level=RegionLevel.DISTRICT).order_by("code")


def warning_providers(user: Any, district: Region) -> set[int] | None:
    """Whose expiry warnings the user sees in the district: all (None) for its bureau, else their own."""
    return None if can_manage_catalog(user, district) else provider_ids_of(user)
