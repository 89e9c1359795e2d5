"""Assign the requested orders whose window starts within the next 24 hours (urgent first), and
re-dispatch orders a caregiver turned down (excluding them). Run once, or as a worker loop with
--every; several workers may run side by side (SKIP LOCKED claims on PostgreSQL)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils import timezone

from sanshe.dispatch.actions import dispatch_due_orders


class Command(BaseCommand):
    help = "自动派出 24 小时内开始的待派单工单（加急优先）；以 --every 常驻运行"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=int, default=0, help="常驻运行，每隔多少秒检查一次（默认只运行一次）")
        parser.add_argument("--batch", type=int, default=200, help="每轮最多处理的工单数")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["every"] < 0 or options["batch"] < 1:
            raise CommandError("--every 应为非负整数秒，--batch 应为正整数")
        while True:
            try:
                counts = dispatch_due_orders(batch=options["batch"])
            except DatabaseError as exc:  # a resident worker survives a busy or restarting database
                if not options["every"]:
                    raise
                self.stderr.write(f"{timezone.localtime():%H:%M:%S}：数据库暂时不可用（{exc}），稍后重试。")
            else:
                self.stdout.write(self.style.SUCCESS(
                    f"{timezone.localtime():%H:%M:%S}：派出 {counts['assigned']} 单，广播抢单 {counts['broadcast']} 单，"
                    f"暂无可派 {counts['unmatched']} 单，被其他进程处理 {counts['skipped']} 单。"))
            if not options["every"]:
                return
            time.sleep(options["every"])
