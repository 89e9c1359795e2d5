"""Recompute stored assessment results after an instrument correction (a new data version)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sanshe.assessments import rules
from sanshe.assessments.actions import run_rescore
from sanshe.assessments.models import RescoreRun


class Command(BaseCommand):
    help = "按评估标准的最新数据版本（或指定版本）重算已提交和已生效的评估结果"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--instrument", default=rules.DEFAULT_INSTRUMENT, help="评估标准，如 “GB/T 42195-2022”")
        parser.add_argument("--data-version", default=None, help="数据版本（默认最新）")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            instrument = rules.load_instrument(options["instrument"], options["data_version"])
        except rules.InstrumentError as exc:
            raise CommandError(str(exc)) from None
        run = RescoreRun.objects.create(instrument_code=instrument.code, instrument_version=instrument.version)
        started = time.perf_counter()
        run = run_rescore(run)
        seconds = time.perf_counter() - started
        rate = run.processed / seconds if seconds else 0
        self.stdout.write(self.style.SUCCESS(
            f"已重算 {run.processed:,} 份评估（结果有变化 {run.changed:,} 份，等级有变化 {run.level_changed:,} 份），"
            f"用时 {seconds:.1f} 秒，每秒 {rate:,.0f} 份。"))
