"""Who may call which person-file endpoint: every endpoint × every persona, as a table.

The elder lives in 杏林社区 (community A1, street A). Expectations follow the role table
(accounts.models.ROLE_CAPABILITIES) and the region scope of each persona's organisation:
a file outside the caller's viewing scope is 404 (the same as a missing one); a file the
caller may see but not change is 403. Every refused write leaves the database as it was.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from sanshe.accounts import actions as account_actions
from sanshe.core.models import AuditAction, AuditEvent
from sanshe.lib.idnumber import make_id_number
from sanshe.people.models import Attachment, Contact, Person, PersonChange, StatusChange
from tests.factories import District, Personas, make_person

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\nfake"

ENDPOINTS = (
    "list", "create", "detail", "patch", "status", "reveal", "history",
    "contacts", "add_contact", "delete_contact", "attachments", "get_attachment", "upload",
)
WRITES = {"create", "patch", "status", "add_contact", "delete_contact", "upload"}

# persona              list create detail patch status reveal history contacts add_c del_c attachs get_a upload
MATRIX: dict[str, tuple[int, ...]] = {
    "district_officer": (200, 201, 200, 200, 201, 200, 200, 200, 201, 204, 200, 200, 201),
    "street_officer":   (200, 201, 200, 200, 201, 200, 200, 200, 201, 204, 200, 200, 201),
    "community_worker": (200, 201, 200, 200, 201, 200, 200, 200, 201, 204, 200, 200, 201),
    # Edits and sees only 柳岸社区 next door; opening a file in 杏林社区 fails on the region.
    "neighbour_worker": (200, 400, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404),
    # Read-only roles: see the file, change nothing, never see the full ID number (nor the
    # attachment here, an ID copy, which carries it).
    "social_worker":    (200, 403, 200, 403, 403, 403, 200, 200, 403, 403, 200, 403, 403),
    "operator":         (200, 403, 200, 403, 403, 403, 200, 200, 403, 403, 200, 403, 403),
    "auditor":          (200, 403, 200, 403, 403, 403, 200, 200, 403, 403, 200, 403, 403),
    # No region capability at all: people reach them only through later assignments.
    "caregiver":        (403, 403, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404),
    "admin":            (403, 403, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404),
    "outsider":         (403, 403, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404),
}


def test_the_table_is_complete() -> None:
    assert all(len(codes) == len(ENDPOINTS) for codes in MATRIX.values())
    assert set(MATRIX) == set(Personas.__dataclass_fields__)


class File:
    """The elder's file with one contact and one attachment, so every endpoint has a target."""

    def __init__(self, district: District, personas: Personas) -> None:
        self.district = district
        self.person = make_person(district.community_a1, by=personas.district_officer, name="张三丰",
                                  phone="13812345678")
        self.contact = Contact.objects.create(person=self.person, name="张大", relation="son", phone="13800000000")
        self.attachment = Attachment(person=self.person, kind="id_copy", original_name="身份证.png",
                                     content_type="image/png", size=len(PNG))
        self.attachment.file.save("a.png", SimpleUploadedFile("a.png", PNG), save=True)

    def state(self) -> tuple[Any, ...]:
        """Everything a refused request must leave untouched."""
        fresh = Person.objects.get(pk=self.person.pk)
        return (
            fresh.version, fresh.name, fresh.phone, fresh.status, fresh.status_since,
            Person.objects.count(),
            Contact.objects.filter(person=fresh).count(), Attachment.objects.filter(person=fresh).count(),
            StatusChange.objects.filter(person=fresh).count(), PersonChange.objects.filter(person=fresh).count(),
            AuditEvent.objects.filter(action__in=[AuditAction.REVEAL_ID, AuditAction.VIEW_PERSON,
                                                  AuditAction.VIEW_ATTACHMENT]).count(),
        )


def json_call(method: str, url: str, data: Any = None) -> Callable[[Client], Any]:
    def call(c: Client) -> Any:
        return getattr(c, method)(url, json.dumps(data) if data is not None else None,
                                  content_type="application/json")
    return call


def request_for(endpoint: str, f: File) -> Callable[[Client], Any]:
    """The request that succeeds for a persona allowed to make it."""
    base = f"/api/v1/people/{f.person.pk}"
    today = timezone.localdate().isoformat()
    new_file = {
        "name": "王秀英", "id_number": make_id_number("330199", dt.date(1938, 2, 11), 22),
        "residence_region_id": f.district.community_a1.pk, "address": "杏林社区桂香苑3幢501室",
    }
    requests: dict[str, Callable[[Client], Any]] = {
        "list": lambda c: c.get("/api/v1/people"),
        "create": json_call("post", "/api/v1/people", new_file),
        "detail": lambda c: c.get(base),
        "patch": json_call("patch", base, {"version": f.person.version, "reason": "入户核实", "phone": "13900001111"}),
        "status": json_call("post", f"{base}/status",
                            {"to_status": "hospitalised", "effective_date": today, "reason": "住院治疗"}),
        "reveal": json_call("post", f"{base}/reveal-id", {"reason": "核对身份"}),
        "history": lambda c: c.get(f"{base}/history"),
        "contacts": lambda c: c.get(f"{base}/contacts"),
        "add_contact": json_call("post", f"{base}/contacts", {"name": "张二", "relation": "daughter",
                                                              "phone": "13800000002"}),
        "delete_contact": lambda c: c.delete(f"{base}/contacts/{f.contact.pk}"),
        "attachments": lambda c: c.get(f"{base}/attachments"),
        "get_attachment": lambda c: c.get(f"{base}/attachments/{f.attachment.pk}"),
        "upload": lambda c: c.post(f"{base}/attachments", {
            "kind": "medical", "file": SimpleUploadedFile("诊断.png", PNG, content_type="image/png")}),
    }
    return requests[endpoint]


def api_client(user: Any) -> Client:
    key, _ = account_actions.issue_api_token(user)
    return Client(headers={"Authorization": f"Bearer {key}"})


def answer(c: Client, endpoint: str, f: File) -> tuple[int, str]:
    """Make the request; return the status and what went wrong beyond the status, if anything."""
    before = f.state()
    response = request_for(endpoint, f)(c)
    if response.streaming:
        # Drain rather than close(): the test client's wrapper closes the file without firing
        # request_finished, which would drop the test's database connection on PostgreSQL.
        b"".join(response.streaming_content)  # type: ignore[attr-defined]
        return response.status_code, ""
    problem = ""
    if response.status_code >= 400:
        detail = response.json().get("detail", "")
        if not any("\u4e00" <= ch <= "\u9fff" for ch in detail):
            problem = f"no Chinese detail: {detail!r}"
        elif f.state() != before:
            problem = "a refused request changed something"
    elif endpoint in WRITES and f.state() == before:
        problem = "an accepted write changed nothing"
    return response.status_code, problem


@pytest.mark.parametrize("persona", MATRIX)
def test_each_persona_gets_the_expected_answer_from_each_endpoint(
    district: District, personas: Personas, persona: str
) -> None:
    c = api_client(getattr(personas, persona))
    wrong = []
    for endpoint, expected in zip(ENDPOINTS, MATRIX[persona], strict=True):
        f = File(district, personas)  # a fresh file for each request: writes change it
        status, problem = answer(c, endpoint, f)
        if status != expected or problem:
            wrong.append(f"{endpoint}: expected {expected}, got {status} {problem}".rstrip())
    assert wrong == [], f"{persona}: " + "; ".join(wrong)


LIST_FINDS_THE_ELDER = {
    "district_officer": True, "street_officer": True, "community_worker": True, "social_worker": True,
    "operator": True, "auditor": True, "neighbour_worker": False,
}


@pytest.mark.parametrize(("persona", "finds"), LIST_FINDS_THE_ELDER.items())
def test_the_list_holds_the_elder_only_for_those_who_may_see_the_file(
    district: District, personas: Personas, persona: str, finds: bool
) -> None:
    f = File(district, personas)
    items = api_client(getattr(personas, persona)).get("/api/v1/people").json()["items"]
    assert (f.person.pk in [row["id"] for row in items]) is finds
