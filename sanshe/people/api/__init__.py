"""API routers of the people app: person files (files.py) and roster import/export (imports.py)."""

from __future__ import annotations

from ninja import Router

from sanshe.people.api.files import router as files_router
from sanshe.people.api.imports import router as imports_router

router = Router()
# Import/export first: its fixed paths (/people/imports…, /people/export.xlsx) sit beside /people/{id}.
router.add_router("", imports_router)
router.add_router("", files_router)
