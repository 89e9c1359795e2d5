"""What each benefit kind means: its parameters, how often it is granted, what a month of it costs,
and how generous it is (for "take the highest, never double" inside an exclusivity group).

Parameters per kind (PolicyVersion.parameters), all optional unless stated:
- monthly_quota, monthly_subsidy: none; `amount` is yuan a month.
- annual_voucher: none; `amount` is the voucher's yearly value, granted once a calendar year in the
  first month the person qualifies.
- one_off_grant: none; `amount` is the most that is paid, granted once per person.
- per_service: "unit" (meal / visit / hour, required) and "monthly_cap" (units a month, optional);
  `amount` is the subsidy per unit, paid when services are delivered, so a month costs nothing up
  front.
- co_payment_tier: "tier" (free / low_cost / paid, required) and "co_payment_rate" (the share the
  person pays, 0 < rate < 1, required for low_cost); `amount` is 0.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from sanshe.core.errors import UserError
from sanshe.eligibility.models import BenefitKind

UNITS = {"meal": "餐", "visit": "次", "hour": "小时"}
TIERS = {"free": "免费", "low_cost": "低偿", "paid": "有偿"}

# Kinds whose amount is money for the month (the run's cost); the others are rights to a price.
MONTHLY_MONEY = {BenefitKind.MONTHLY_QUOTA, BenefitKind.MONTHLY_SUBSIDY}
# Kinds granted once per calendar year / once per person rather than every month.
ONCE_A_YEAR = {BenefitKind.ANNUAL_VOUCHER}
ONCE_EVER = {BenefitKind.ONE_OFF_GRANT}
# Kinds that give a right to a price rather than money this month (they cost nothing up front).
PRICE_RIGHTS = {BenefitKind.PER_SERVICE, BenefitKind.CO_PAYMENT_TIER}


def _rate(value: Any) -> Decimal:
    try:
        rate = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise UserError(f"自付比例“{value}”应为 0 到 1 之间的小数，如 0.3", field="parameters.co_payment_rate") from None
    if not Decimal(0) < rate < Decimal(1):
        raise UserError("低偿服务的自付比例应大于 0 且小于 1，如 0.3 表示自付三成",
                        field="parameters.co_payment_rate")
    return rate


def validate_parameters(kind: str, amount: Decimal, parameters: dict[str, Any] | None) -> dict[str, Any]:
    """The parameters of a version, checked and normalised; UserError names the first bad one."""
    parameters = dict(parameters or {})
    if kind not in BenefitKind.values:
        raise UserError(f"没有“{kind}”这一待遇类型", field="benefit_kind")
    if amount < 0:
        raise UserError("金额不能为负数", field="amount")
    if amount != amount.quantize(Decimal("0.01")):
        raise UserError("金额最多保留两位小数（精确到分）", field="amount")
    if kind == BenefitKind.PER_SERVICE:
        unit = parameters.get("unit")
        if unit not in UNITS:
            raise UserError("按次补贴须选择计量单位：每餐、每次或每小时", field="parameters.unit")
        cap = parameters.get("monthly_cap")
        if cap not in (None, ""):
            if not str(cap).isdigit() or int(cap) <= 0:
                raise UserError("每月补贴次数上限应为正整数", field="parameters.monthly_cap")
            return {"unit": unit, "monthly_cap": int(cap)}
        return {"unit": unit}
    if kind == BenefitKind.CO_PAYMENT_TIER:
        tier = parameters.get("tier")
        if tier not in TIERS:
            raise UserError("服务收费档次须选择免费、低偿或有偿", field="parameters.tier")
        if amount != 0:
            raise UserError("服务收费档次不发放金额，金额应填 0", field="amount")
        if tier == "low_cost":
            return {"tier": tier, "co_payment_rate": str(_rate(parameters.get("co_payment_rate")))}
        return {"tier": tier}
    if parameters:
        raise UserError(f"该待遇类型没有参数“{'、'.join(sorted(parameters))}”", field="parameters")
    if amount == 0:
        raise UserError("金额应大于 0", field="amount")
    return {}


def co_payment_rate(parameters: dict[str, Any]) -> Decimal:
    tier = parameters.get("tier")
    if tier == "free":
        return Decimal(0)
    if tier == "low_cost":
        return Decimal(str(parameters["co_payment_rate"]))
    return Decimal(1)


def generosity(kind: str, amount: Decimal, parameters: dict[str, Any]) -> Decimal:
    """A comparable measure of how much a version gives: the amount, or for a co-payment tier the
    share the platform pays (free 1, low-cost 1 − rate, paid 0)."""
    if kind == BenefitKind.CO_PAYMENT_TIER:
        return Decimal(1) - co_payment_rate(parameters)
    return amount


def describe(kind: str, amount: Decimal, parameters: dict[str, Any]) -> str:
    """The benefit in words: "每月 1000.00 元", "每餐补贴 3.00 元（每月至多 30 餐）", "低偿（自付 30%）"."""
    if kind == BenefitKind.CO_PAYMENT_TIER:
        tier = parameters.get("tier", "")
        if tier == "low_cost":
            return f"低偿（自付 {co_payment_rate(parameters) * 100:.0f}%）"
        return TIERS.get(tier, tier)
    if kind == BenefitKind.PER_SERVICE:
        unit = UNITS.get(parameters.get("unit", ""), "次")
        cap = parameters.get("monthly_cap")
        return f"每{unit}补贴 {amount:.2f} 元" + (f"（每月至多 {cap} {unit}）" if cap else "")
    if kind == BenefitKind.ANNUAL_VOUCHER:
        return f"每年服务券 {amount:.2f} 元"
    if kind == BenefitKind.ONE_OFF_GRANT:
        return f"一次性补助，至多 {amount:.2f} 元"
    return f"每月 {amount:.2f} 元"
