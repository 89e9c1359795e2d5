"""The Solomon bench's reader and independent checker, on one instance with a short solve."""

from __future__ import annotations

import pytest

from bench.routes_solomon import DATA, check, read_instance, run_platform

pytestmark = pytest.mark.skipif(not (DATA / "C101.txt").exists(), reason="Solomon instances not present")


def test_the_platform_planner_solves_c101_and_the_checker_agrees() -> None:
    inst = read_instance(DATA / "C101.txt")
    assert len(inst.xy) == 101
    assert inst.capacity == 200
    result = run_platform(inst, 0.5)
    assert 828.9 <= result["cost"] < 900  # best known 828.94


def test_the_checker_rejects_a_missing_customer_and_an_overloaded_vehicle() -> None:
    inst = read_instance(DATA / "C101.txt")
    everyone = list(range(1, 101))
    with pytest.raises(AssertionError, match="customers served"):
        check(inst, [everyone[:-1]])
    with pytest.raises(AssertionError, match="capacity exceeded"):
        check(inst, [everyone])
