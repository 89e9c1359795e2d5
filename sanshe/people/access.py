"""Checked access to person files. Every read of people's data goes through here."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from sanshe.accounts.access import capability_scope, community_ids_in_scope, has_capability
from sanshe.accounts.models import Capability
from sanshe.people.codes import AttachmentKind
from sanshe.people.models import Attachment, ImportJob, Person

NOT_FOUND = "没有找到该档案"
IMPORT_NOT_FOUND = "没有找到该导入记录"
# Copies of documents that carry the full ID number: shown only to roles that may reveal it.
ID_BEARING_ATTACHMENTS = frozenset({AttachmentKind.ID_COPY, AttachmentKind.HOUSEHOLD_REGISTER})


def visible_people(user: Any, capability: Capability = Capability.VIEW_PEOPLE) -> QuerySet[Person]:
    """People whose residence lies in a region where the user holds the capability."""
    return Person.objects.filter(residence_region_id__in=community_ids_in_scope(user, capability))


def access_person(user: Any, person_id: Any, *, for_write: bool = False) -> Person:
    """Fetch a file the user may see (and, with for_write, change); missing and not yours both 404."""
    try:
        pk = int(person_id)
    except (TypeError, ValueError):
        raise Http404(NOT_FOUND) from None
    person = visible_people(user).select_related("residence_region", "registered_region").filter(pk=pk).first()
    if person is None:
        raise Http404(NOT_FOUND)
    if for_write and not can_edit_person(user, person):
        raise PermissionDenied("您没有修改该档案的权限")
    return person


def can_edit_person(user: Any, person: Person) -> bool:
    return capability_scope(user, Capability.EDIT_PEOPLE).covers(person.residence_region.code)


def can_reveal_id(user: Any, person: Person) -> bool:
    return capability_scope(user, Capability.REVEAL_ID).covers(person.residence_region.code)


def visible_import_jobs(user: Any) -> QuerySet[ImportJob]:
    """A roster import is seen only by the user who uploaded it (it holds their spreadsheet)."""
    if not has_capability(user, Capability.IMPORT_PEOPLE):
        return ImportJob.objects.none()
    return ImportJob.objects.filter(created_by=user)


def access_import_job(user: Any, job_id: Any) -> ImportJob:
    try:
        pk = int(job_id)
    except (TypeError, ValueError):
        raise Http404(IMPORT_NOT_FOUND) from None
    job = visible_import_jobs(user).filter(pk=pk).first()
    if job is None:
        raise Http404(IMPORT_NOT_FOUND)
    return job


def access_attachment(user: Any, person: Person, attachment_id: Any) -> Attachment:
    """An attachment of a file the user may see; ID copies need the right to reveal ID numbers."""
    try:
        pk = int(attachment_id)
    except (TypeError, ValueError):
        raise Http404("没有找到该附件") from None
    attachment = person.attachments.filter(pk=pk).first()
    if attachment is None:
        raise Http404("没有找到该附件")
    if attachment.kind in ID_BEARING_ATTACHMENTS and not can_reveal_id(user, person):
        raise PermissionDenied("该附件含完整身份证号，您的角色不能查看")
    return attachment
