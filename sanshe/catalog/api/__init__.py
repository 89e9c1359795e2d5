"""API routers of the catalog app: the service list, prices, settings and warnings (catalogue.py),
providers, licences and contracts (providers.py), facilities and caregivers (staff.py)."""

from __future__ import annotations

from ninja import Router

from sanshe.catalog.api.catalogue import router as catalogue_router
from sanshe.catalog.api.providers import router as providers_router
from sanshe.catalog.api.staff import router as staff_router

router = Router()
router.add_router("", catalogue_router)
router.add_router("", providers_router)
router.add_router("", staff_router)
