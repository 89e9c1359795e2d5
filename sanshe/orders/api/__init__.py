"""The orders API: care plans and service orders (tag 照护方案与工单), joined here."""

from __future__ import annotations

from ninja import Router

from sanshe.orders.api.orders import router as orders_router
from sanshe.orders.api.plans import router as plans_router

router = Router()
router.add_router("", plans_router)
router.add_router("", orders_router)
