"""Background jobs of the people app (run by `manage.py db_worker`; immediately under tests)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.utils import timezone
from django_tasks import task

from sanshe.people import importer
from sanshe.people.models import ImportJob, ImportStatus

log = logging.getLogger(__name__)


def _run(job_id: int, expected: tuple[str, ...], step: Callable[[ImportJob], ImportJob]) -> None:
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.status not in expected:
        return
    try:
        step(job)
    except Exception:
        log.exception("roster import %s failed", job_id)
        importer.discard_file(job)
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportStatus.FAILED, finished_at=timezone.now(),
            message="处理过程中发生系统错误，已导入的批次保留，可重新上传同一文件继续（已建档的人员会被更新而不会重复）",
        )
        raise


@task()
def validate_roster(job_id: int) -> None:
    _run(job_id, (ImportStatus.PENDING, ImportStatus.VALIDATING), importer.validate_job)


@task()
def import_roster(job_id: int) -> None:
    _run(job_id, (ImportStatus.IMPORTING,), importer.import_job)
