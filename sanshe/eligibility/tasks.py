"""Background job of the eligibility app: the monthly run (run by `manage.py db_worker`; immediately
under tests). The page, the API and the command all start it through start_month_run."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django_tasks import TaskResult, TaskResultStatus, task

from sanshe.accounts.models import Region, User
from sanshe.core.audit import record_event
from sanshe.core.errors import UserError
from sanshe.core.models import AuditAction
from sanshe.eligibility import actions
from sanshe.eligibility.models import EntitlementRun, RunStatus

log = logging.getLogger(__name__)


def month_text(month: dt.date) -> str:
    """2027年2月 (no leading zero, as months are written in notices and reports)."""
    return f"{month.year}年{month.month}月"


def next_month_to_compute(district: Region, today: dt.date) -> dt.date:
    """The month after the latest computed one; the current month when nothing was computed yet."""
    latest = (EntitlementRun.objects.filter(district=district, status=RunStatus.DONE)
              .order_by("-month").values_list("month", flat=True).first())
    if latest is None:
        return actions.first_of_month(today)
    return (latest + dt.timedelta(days=32)).replace(day=1)


def check_month_open(district: Region, month: dt.date) -> None:
    """Refuse a month that was computed (months are never recomputed) or is being computed."""
    month = actions.first_of_month(month)
    done = EntitlementRun.objects.filter(district=district, month=month, status=RunStatus.DONE).first()
    if done is not None:
        raise UserError(f"{district.name}{month_text(month)}的待遇已于 {timezone.localtime(done.started_at):%Y-%m-%d %H:%M} "
                        "计算完成，已计算的月份不会被重新计算", field="month")
    if EntitlementRun.objects.filter(district=district, month=month, status=RunStatus.RUNNING).exists():
        raise UserError(f"{district.name}{month_text(month)}的待遇正在计算，请稍后查看结果", field="month")


def start_month_run(district: Region, month: dt.date, *, acting_user: Any,
                    request: HttpRequest | None = None) -> TaskResult[dict[str, Any]]:
    """Queue the monthly run of a district (checked and audited here; computed by compute_month)."""
    month = actions.first_of_month(month)
    check_month_open(district, month)
    record_event(acting_user, AuditAction.RUN_ENTITLEMENTS, request=request,
                 subject=f"{district.name}{month_text(month)}待遇计算",
                 detail={"district": district.code, "month": month.isoformat()})
    user_id = acting_user.pk if getattr(acting_user, "is_authenticated", False) else None
    return compute_month.enqueue(district.pk, month.isoformat(), user_id)


@task()
def compute_month(district_id: int, month: str, user_id: int | None) -> dict[str, Any]:
    """Compute one month; a refusal is a result ("refused"), anything else fails the job and leaves a
    failed run row so the runs list shows it."""
    district = Region.objects.get(pk=district_id)
    user = User.objects.filter(pk=user_id).first() if user_id else None
    day = dt.date.fromisoformat(month)
    try:
        result = actions.run_month(district, day, acting_user=user)
    except UserError as exc:
        return {"run_id": None, "refused": exc.message}
    except Exception:
        log.exception("monthly run of %s for %s failed", district.code, month)
        _mark_failed(district, day, user)
        raise
    run = result.run
    return {"run_id": run.pk, "refused": "", "granted": result.granted, "entitlements": run.entitlements,
            "total_amount": str(run.total_amount), "dropped_by_group": result.dropped_by_group,
            "dropped_by_exclusion": result.dropped_by_exclusion}


def _mark_failed(district: Region, month: dt.date, user: User | None) -> None:
    """A run left RUNNING becomes FAILED; when the failure rolled everything back, a FAILED row
    records the attempt (the month stays open: a new run may be started after the cause is fixed)."""
    month = actions.first_of_month(month)
    now = timezone.now()
    updated = EntitlementRun.objects.filter(district=district, month=month, status=RunStatus.RUNNING).update(
        status=RunStatus.FAILED, finished_at=now)
    if not updated:
        EntitlementRun.objects.create(district=district, month=month, status=RunStatus.FAILED, started_by=user,
                                      finished_at=now)


@dataclass
class JobState:
    """A queued or finished monthly run as the pages and the API show it."""

    id: str
    status: str  # queued / running / done / refused / failed
    label: str
    district_id: int
    month: dt.date
    run_id: int | None = None
    message: str = ""
    enqueued_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None

    @property
    def is_finished(self) -> bool:
        return self.status in ("done", "refused", "failed")


LABELS = {"queued": "排队等待", "running": "计算中", "done": "已完成", "refused": "未计算", "failed": "失败"}


def job_state(result: TaskResult[Any]) -> JobState:
    district_id, month = int(result.args[0]), dt.date.fromisoformat(str(result.args[1]))
    state = JobState(id=str(result.id), status="queued", label="", district_id=district_id, month=month,
                     enqueued_at=result.enqueued_at, finished_at=result.finished_at)
    if result.status == TaskResultStatus.RUNNING:
        state.status = "running"
    elif result.status == TaskResultStatus.SUCCESSFUL:
        value: dict[str, Any] = result.return_value or {}
        state.run_id = value.get("run_id")
        state.message = str(value.get("refused") or "")
        state.status = "refused" if state.message else "done"
    elif result.status == TaskResultStatus.FAILED:
        state.status = "failed"
        state.message = "计算过程中发生系统错误，计算未完成；请联系系统管理员排查原因后重新发起计算。"
        if result.errors:
            lines = [line for line in result.errors[-1].traceback.strip().splitlines() if line.strip()]
            if lines:
                state.message += f"错误信息：{lines[-1].strip()[:300]}"
    state.label = LABELS[state.status]
    return state


def find_job(job_id: str) -> JobState | None:
    """A monthly-run job by id, or None when unknown (or when the backend keeps no results)."""
    try:
        return job_state(compute_month.get_result(job_id))
    except Exception:  # unknown id, malformed id, another task's id, a backend without results
        return None
