"""Rescoring stored assessments (after an instrument correction): the background job's code path
over every published assessment in the bench district, reported as assessments per second."""

from __future__ import annotations

import time
from typing import Any

from sanshe.assessments import rules
from sanshe.assessments.actions import run_rescore
from sanshe.assessments.models import Assessment, RescoreRun


def run_rescore_benchmark() -> dict[str, Any]:
    instrument = rules.load_instrument(rules.DEFAULT_INSTRUMENT)
    # Stand in for results stored under an earlier data version: every one of them is recomputed.
    stored = Assessment.objects.filter(instrument_code=instrument.code).exclude(total_score__isnull=True)
    count = stored.update(instrument_version="0.previous")
    run = RescoreRun.objects.create(instrument_code=instrument.code, instrument_version=instrument.version)
    started = time.perf_counter()
    run = run_rescore(run)
    seconds = time.perf_counter() - started
    result = {"what": "rescore stored assessments", "assessments": count, "processed": run.processed,
              "changed": run.changed, "seconds": round(seconds, 1),
              "per_second": round(run.processed / seconds) if seconds else None}
    print(f"  rescored {run.processed:,} stored assessments in {seconds:.1f} s "
          f"({result['per_second']:,} per second; {run.changed:,} results changed)")
    return result
