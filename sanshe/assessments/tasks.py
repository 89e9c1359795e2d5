"""Background jobs of the assessment app (run by `manage.py db_worker`; immediately under tests)."""

from __future__ import annotations

import logging

from django.utils import timezone
from django_tasks import task

from sanshe.assessments.models import RescoreRun, RescoreStatus

log = logging.getLogger(__name__)


@task()
def rescore_assessments(run_id: int) -> None:
    from sanshe.assessments.actions import run_rescore  # actions queue this task

    run = RescoreRun.objects.get(pk=run_id)
    if run.status not in (RescoreStatus.PENDING, RescoreStatus.RUNNING):
        return
    try:
        run_rescore(run)
    except Exception:
        log.exception("rescore run %s failed", run_id)
        RescoreRun.objects.filter(pk=run_id).update(
            status=RescoreStatus.FAILED, finished_at=timezone.now(),
            message="重算过程中发生系统错误；已重算的批次保留，可重新发起（已是新版本的评估不会重复计算）")
        raise
