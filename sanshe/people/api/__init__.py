"""API routers of the people app: person files (files.py) and roster import/export (imports.py)."""

from __future__ import annotations

from ninja import Router

router = Router()
