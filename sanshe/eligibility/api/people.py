"""API: what a person receives under each policy and why, or the first condition not met."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema

from sanshe.eligibility.queries import explain_person
from sanshe.people.access import access_person

router = Router(tags=["政策与待遇"])


class PolicyExplanationOut(Schema):
    policy_code: str
    policy: str
    legal_basis: str
    fund: str
    granted: bool
    status: str = ""  # pending / notice / active for a granted entitlement
    benefit: str
    amount: Decimal
    payable: Decimal | None
    month: dt.date | None
    reasons: list[str]
    failure: str


@router.get("/people/{int:person_id}/entitlements", response=list[PolicyExplanationOut],
            summary="老人享受的待遇及依据；未享受的政策给出第一条不满足的条件")
def entitlements(request: HttpRequest, person_id: int) -> list[dict[str, Any]]:
    person = access_person(request.user, person_id)
    return [{"policy_code": r["policy"].code, "policy": r["policy"].name, "legal_basis": r["policy"].legal_basis,
             "fund": r["policy"].fund.name, "granted": r["granted"], "status": r["status"], "benefit": r["benefit"],
             "amount": r["amount"], "payable": r["payable"], "month": r["month"],
             "reasons": r["reasons"], "failure": r["failure"]} for r in explain_person(person, timezone.localdate())]
