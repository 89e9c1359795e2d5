"""The import benchmark's own code path, on a small roster (the figures come from `make bench`)."""

from __future__ import annotations

from bench.import_rows import run_import_benchmark
from sanshe.people.models import Person
from tests.factories import District, Personas, make_person


def test_import_benchmark_creates_and_updates(district: District, personas: Personas) -> None:
    for _ in range(5):
        make_person(district.community_a1, by=personas.district_officer)
    result = run_import_benchmark(rows=50, seed=7)
    assert result["rows"] == 50
    assert result["updated"] + result["created"] == 50
    assert result["updated"] == 5  # their phone numbers change
    assert Person.objects.count() == 50
