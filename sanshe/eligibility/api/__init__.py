"""The eligibility API: one router per part (policies, runs, approvals, applications, a person's
entitlements), joined here."""

from __future__ import annotations

from ninja import Router

from sanshe.eligibility.api.applications import router as applications_router
from sanshe.eligibility.api.approvals import router as approvals_router
from sanshe.eligibility.api.people import router as people_router
from sanshe.eligibility.api.policies import router as policies_router
from sanshe.eligibility.api.runs import router as runs_router

router = Router()
router.add_router("", people_router)
router.add_router("", policies_router)
router.add_router("", approvals_router)
router.add_router("", runs_router)
router.add_router("", applications_router)
