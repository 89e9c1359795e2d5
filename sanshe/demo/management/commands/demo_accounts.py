"""Print the demo accounts (role, username, password) written by generate_demo."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.core.management.base import BaseCommand

from sanshe.accounts.models import Role
from sanshe.demo.generator import accounts_path, read_accounts_file


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


class Command(BaseCommand):
    help = "列出演示账号（角色、用户名、密码）"

    def handle(self, *args: Any, **options: Any) -> None:
        accounts = read_accounts_file()
        if not accounts:
            self.stdout.write(
                f"尚未生成演示账号（未找到 {accounts_path()}）：请先运行 make demo，"
                "或 SANSHE_DEMO=1 python manage.py generate_demo"
            )
            return
        # Roles in the order of the role table, then anything the file holds beyond it.
        order = [r for r in Role.values if r in accounts] + sorted(set(accounts) - set(Role.values))
        rows = [("角色", "用户名", "密码", "所属组织")]
        for role in order:
            entry = accounts[role]
            rows.append((entry.get("role_label", role), entry.get("username", ""), entry.get("password", ""),
                         entry.get("organization", "")))
        widths = [max(display_width(row[i]) for row in rows) + 2 for i in range(3)]
        self.stdout.write("演示账号（仅供演示，所有人员和机构均为虚构）：")
        for row in rows:
            self.stdout.write("  " + "".join(pad(cell, w) for cell, w in zip(row[:3], widths, strict=True)) + row[3])
