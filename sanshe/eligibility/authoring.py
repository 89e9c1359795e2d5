"""Writing policies: a policy's identity (name, legal basis, fund, benefit kind, exclusivity) and
its versions of conditions and amounts, each from an effective date. Everything is checked when
saved; a malformed tree or parameter never reaches a monthly run."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction

from sanshe.core.errors import UserError
from sanshe.eligibility.benefits import validate_parameters
from sanshe.eligibility.models import Policy, PolicyVersion, Proration
from sanshe.eligibility.queries import fields
from sanshe.eligibility.rules import ConditionError, validate


def check_condition(condition: Any) -> None:
    try:
        validate(condition, fields())
    except ConditionError as exc:
        raise UserError(exc.message, field=f"condition.{exc.path}".rstrip(".")) from None


@transaction.atomic
def add_version(policy: Policy, *, effective_from: dt.date, condition: dict[str, Any], amount: Decimal,
                acting_user: Any, note: str = "", parameters: dict[str, Any] | None = None,
                proration: str = Proration.NONE) -> PolicyVersion:
    """A new version of a policy's conditions and amount from a date; the previous one ends the day
    before. Versions never overlap: a new one must start after every existing one."""
    check_condition(condition)
    parameters = validate_parameters(policy.benefit_kind, amount, parameters)
    if proration not in Proration.values:
        raise UserError("请选择月中变化的折算规则", field="proration")
    Policy.objects.select_for_update().filter(pk=policy.pk).first()  # one writer of versions at a time
    latest = policy.versions.order_by("-effective_from").first()
    if latest and latest.effective_from >= effective_from:
        raise UserError(f"已有 {latest.effective_from} 生效的版本，新版本的生效日期须晚于它", field="effective_from")
    if latest:
        latest.effective_to = effective_from - dt.timedelta(days=1)
        latest.save(update_fields=["effective_to"])
    return PolicyVersion.objects.create(
        policy=policy, number=(latest.number + 1) if latest else 1, effective_from=effective_from,
        condition=condition, amount=amount, parameters=parameters, proration=proration, note=note[:300],
        created_by=acting_user,
    )
