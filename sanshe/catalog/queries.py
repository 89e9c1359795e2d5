"""Catalogue look-ups every service path shares: the price in force on a day, whether a caregiver
may deliver an item on a day, and which providers are contracted for an item in a community."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from sanshe.accounts.models import Organization, OrganizationKind, Region
from sanshe.catalog.models import (
    Caregiver,
    CaregiverQualification,
    Contract,
    ContractStatus,
    Price,
    ProviderLicence,
    Qualification,
    ServiceItem,
    ServiceSettings,
)


def price_on(item: ServiceItem, day: dt.date) -> Price | None:
    """The item's price in the latest price list in force on the day."""
    return (
        Price.objects.filter(item=item, price_list__effective_from__lte=day)
        .select_related("price_list")
        .order_by("-price_list__effective_from")
        .first()
    )


def unqualified_reason(caregiver: Caregiver, item: ServiceItem, day: dt.date) -> str:
    """Why the caregiver may not deliver the item on the day, or "" when they may."""
    if not caregiver.is_active:
        return f"{caregiver.name}已离职"
    needed = item.required_qualification
    if not needed:
        return ""
    label = Qualification(needed).label
    held = CaregiverQualification.objects.filter(caregiver=caregiver, qualification=needed).first()
    if held is None:
        return f"{caregiver.name}没有“{label}”，不能提供“{item.name}”"
    if not held.valid_on(day):
        return f"{caregiver.name}的“{label}”已于 {held.expires_on} 过期，不能提供“{item.name}”"
    return ""


def qualified_caregivers(item: ServiceItem, day: dt.date) -> QuerySet[Caregiver]:
    """Active caregivers who hold the item's qualification, valid on the day."""
    caregivers = Caregiver.objects.filter(is_active=True)
    if not item.required_qualification:
        return caregivers
    return caregivers.filter(
        Q(qualifications__expires_on__isnull=True) | Q(qualifications__expires_on__gte=day),
        qualifications__qualification=item.required_qualification,
    )


def contracts_covering(community: Region, item: ServiceItem, day: dt.date) -> QuerySet[Contract]:
    """Contracts in force on the day whose area holds the community (or its street or district)
    and whose items include this one."""
    area = [community.pk]
    node = community.parent
    while node is not None:
        area.append(node.pk)
        node = node.parent
    return Contract.objects.filter(
        status=ContractStatus.ACTIVE, starts_on__lte=day, ends_on__gte=day, service_area__in=area,
        items__item=item,
    ).distinct()


def contracted_providers(community: Region, item: ServiceItem, day: dt.date) -> QuerySet[Organization]:
    return Organization.objects.filter(
        pk__in=contracts_covering(community, item, day).values("provider"), is_active=True
    )


@dataclass(frozen=True, slots=True)
class Expiry:
    """Something that expires: a licence, a contract, a caregiver's qualification or insurance."""

    kind: str  # licence | contract | qualification | insurance
    kind_label: str
    provider_id: int
    provider_name: str
    subject: str  # what expires, in words
    object_id: int  # the licence, contract, or caregiver
    expires_on: dt.date
    days_left: int  # negative when already expired

    @property
    def expired(self) -> bool:
        return self.days_left < 0

    @property
    def overdue_days(self) -> int:
        return max(0, -self.days_left)


def expiring(district: Region, today: dt.date, within_days: int | None = None, *,
             provider_ids: set[int] | None = None) -> list[Expiry]:
    """Licences, active contracts, and active caregivers' qualifications and insurance of the
    district's providers that expire within the warning period (the district's setting unless
    given) or have already expired; soonest first."""
    days = ServiceSettings.for_district(district).expiry_warning_days if within_days is None else within_days
    until = today + dt.timedelta(days=days)
    providers = Organization.objects.filter(kind=OrganizationKind.PROVIDER, region__code__startswith=district.prefix,
                                            is_active=True)
    if provider_ids is not None:
        providers = providers.filter(pk__in=provider_ids)
    rows: list[Expiry] = []

    def add(kind: str, label: str, provider: Organization, subject: str, object_id: int, on: dt.date | None) -> None:
        if on is not None:
            rows.append(Expiry(kind, label, provider.pk, provider.name, subject, object_id, on, (on - today).days))

    for licence in ProviderLicence.objects.filter(provider__in=providers, expires_on__lte=until).select_related(
            "provider"):
        add("licence", "机构证照", licence.provider, f"{licence.get_kind_display()}（{licence.number}）", licence.pk,
            licence.expires_on)
    for contract in Contract.objects.filter(provider__in=providers, district=district, status=ContractStatus.ACTIVE,
                                            ends_on__lte=until).select_related("provider"):
        add("contract", "购买服务合同", contract.provider, f"{contract.title}（{contract.number}）", contract.pk,
            contract.ends_on)
    caregivers = Caregiver.objects.filter(provider__in=providers, is_active=True)
    for q in CaregiverQualification.objects.filter(caregiver__in=caregivers, expires_on__lte=until).select_related(
            "caregiver__provider"):
        add("qualification", "护理员资质", q.caregiver.provider,
            f"{q.caregiver.name}：{q.get_qualification_display()}（{q.certificate_no}）", q.caregiver_id, q.expires_on)
    for c in caregivers.filter(insurance_expires_on__lte=until).select_related("provider"):
        add("insurance", "护理员保险", c.provider, f"{c.name}：意外/责任险（{c.insurance_policy_no}）", c.pk,
            c.insurance_expires_on)
    return sorted(rows, key=lambda r: (r.expires_on, r.provider_name, r.kind, r.subject))
