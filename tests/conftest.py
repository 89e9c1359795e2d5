from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.factories import District, Personas, build_district, build_personas
from tests.service_factories import ServiceWorld, build_service_world


@pytest.fixture
def district(db: None) -> District:
    return build_district()


@pytest.fixture
def personas(district: District) -> Personas:
    return build_personas(district)


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Path) -> None:
    """Uploads (attachments, rosters) go to a per-test directory, never into var/."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(district: District, personas: Personas) -> ServiceWorld:
    return build_service_world(district, personas)
