"""The eligibility API: one router per part (policies, runs, approvals, applications, a person's
entitlements), joined here."""

from __future__ import annotations

from ninja import Router

from sanshe.eligibility.api.people import router as people_router

router = Router()
router.add_router("", people_router)
