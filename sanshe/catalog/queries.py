"""Catalogue look-ups every service path shares: the price in force on a day, whether a caregiver
may deliver an item on a day, and which providers are contracted for an item in a community."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from sanshe.accounts.models import Organization, Region
from sanshe.catalog.models import (
    Caregiver,
    CaregiverQualification,
    Contract,
    ContractStatus,
    Price,
    Qualification,
    ServiceItem,
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
