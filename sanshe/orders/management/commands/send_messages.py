"""Send queued text messages (confirmation codes, delivery alerts) through the configured
transport. Run from cron, or as a worker loop with --every; several may run at once."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from sanshe.orders.messages import send_pending


class Command(BaseCommand):
    help = "发送待发短信（确认码、服务预警）；可用 --every 常驻运行"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=float, default=0, help="常驻运行，每隔多少秒发送一次（默认只运行一次）")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["every"] < 0:
            raise CommandError("--every 应为正数秒")
        while True:
            try:
                sent, failed = send_pending()
            except DatabaseError as exc:
                if not options["every"]:
                    raise
                self.stderr.write(f"数据库暂时不可用（{exc}），稍后重试。")
            else:
                if sent or failed or not options["every"]:
                    self.stdout.write(f"已发送 {sent} 条，失败 {failed} 条。")
            if not options["every"]:
                return
            time.sleep(options["every"])
