"""Put into effect every approval batch whose public notice has ended with no open objection.
Run daily from cron, or as a worker loop with --every; several may run at once."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils import timezone

from sanshe.eligibility.approvals import activate_due_notices


class Command(BaseCommand):
    help = "公示期满且无未处理异议的待遇审批批次确认生效（每日运行，或以 --every 常驻运行）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", default="", help="按该日期判断公示是否期满（YYYY-MM-DD，默认今天）")
        parser.add_argument("--every", type=int, default=0,
                            help="常驻运行，每隔多少秒检查一次（默认只运行一次）")

    def handle(self, *args: Any, **options: Any) -> None:
        fixed: dt.date | None = None
        if options["date"]:
            try:
                fixed = dt.date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError("日期格式应为 YYYY-MM-DD") from None
        if options["every"] < 0:
            raise CommandError("--every 应为正整数秒")
        while True:
            today = fixed or timezone.localdate()
            try:
                count = activate_due_notices(today)
            except DatabaseError as exc:  # a resident worker survives a busy or restarting database
                if not options["every"]:
                    raise
                self.stderr.write(f"{today:%Y-%m-%d}：数据库暂时不可用（{exc}），稍后重试。")
            else:
                self.stdout.write(self.style.SUCCESS(f"{today:%Y-%m-%d}：{count} 个批次公示期满，已确认生效。"))
            if not options["every"]:
                return
            time.sleep(options["every"])
