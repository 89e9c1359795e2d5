"""Create the service orders of every active care plan for the coming days. Run daily from cron,
or as a worker loop with --every; it is idempotent, and several may run at once."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils import timezone

from sanshe.orders.generation import generate_orders


class Command(BaseCommand):
    help = "按执行中的照护方案生成未来若干天的服务工单（可重复运行，不会重复生成）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=14, help="生成今天起多少天的工单（默认 14）")
        parser.add_argument("--date", default="", help="从该日期起生成（YYYY-MM-DD，默认今天）")
        parser.add_argument("--every", type=int, default=0, help="常驻运行，每隔多少秒生成一次（默认只运行一次）")

    def handle(self, *args: Any, **options: Any) -> None:
        if not 1 <= options["days"] <= 92:
            raise CommandError("--days 应在 1 到 92 之间")
        if options["every"] < 0:
            raise CommandError("--every 应为正整数秒")
        fixed: dt.date | None = None
        if options["date"]:
            try:
                fixed = dt.date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError("日期格式应为 YYYY-MM-DD") from None
        while True:
            today = fixed or timezone.localdate()
            try:
                result = generate_orders(today=today, days=options["days"])
            except DatabaseError as exc:  # a resident worker survives a busy or restarting database
                if not options["every"]:
                    raise
                self.stderr.write(f"{today:%Y-%m-%d}：数据库暂时不可用（{exc}），稍后重试。")
            else:
                self.stdout.write(self.style.SUCCESS(
                    f"{today:%Y-%m-%d} 起 {options['days']} 天：新生成 {result.created} 张工单"
                    f"（其中 {result.assigned} 张已派给固定护理员），已存在 {result.existing} 张，"
                    f"跳过不再在册的老人 {result.skipped_people} 位。"))
                for problem in result.problems:
                    self.stderr.write(f"未生成：{problem}")
            if not options["every"]:
                return
            time.sleep(options["every"])
