from __future__ import annotations

import pytest

from tests.factories import District, Personas, build_district, build_personas


@pytest.fixture
def district(db: None) -> District:
    return build_district()


@pytest.fixture
def personas(district: District) -> Personas:
    return build_personas(district)
