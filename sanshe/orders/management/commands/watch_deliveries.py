"""Raise delivery alerts: late and missed visits, home care beds short of yesterday's minimum.
Run from cron, or as a worker loop with --every; several may run at once."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils import timezone

from sanshe.orders.watch import run_watch


class Command(BaseCommand):
    help = "检查上门服务：迟到、漏服务预警和家庭养老床位服务时长不足（可用 --every 常驻运行）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=int, default=0, help="常驻运行，每隔多少秒检查一次（默认只运行一次）")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["every"] < 0:
            raise CommandError("--every 应为正整数秒")
        while True:
            try:
                result = run_watch()
            except DatabaseError as exc:  # a resident worker survives a busy or restarting database
                if not options["every"]:
                    raise
                self.stderr.write(f"数据库暂时不可用（{exc}），稍后重试。")
            else:
                self.stdout.write(f"{timezone.localtime():%Y-%m-%d %H:%M:%S} 迟到 {result.late} 条，"
                                  f"漏服务 {result.missed} 条，床位服务不足 {result.shortfall} 条。")
            if not options["every"]:
                return
            time.sleep(options["every"])
