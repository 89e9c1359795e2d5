"""Demo assessments: most people assessed under GB/T 42195-2022 with answers consistent with their
age and health, some overdue for re-assessment, a few requests still open. Deterministic."""

from __future__ import annotations

import base64
import datetime as dt
import random
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from sanshe.accounts.models import Organization, OrganizationKind, Region, RegionLevel, Role, User
from sanshe.assessments import actions, rules
from sanshe.assessments.actions import add_months
from sanshe.assessments.models import (
    Assessment,
    AssessmentReason,
    AssessmentSettings,
    AssessmentStatus,
    CapabilityRecord,
    ReassessmentTrigger,
    Signature,
    SignerRole,
    TriggerKind,
)
from sanshe.core.bulk import bulk_insert
from sanshe.people.models import Person, PersonStatus

BATCH = 2000
# ICD-10 codes for the file's chronic conditions (GB/T 42195 A.4.1 uses ICD-10 ranges).
ICD10 = {"高血压": "I10", "糖尿病": "E11", "冠心病": "I25", "脑卒中": "I63", "慢阻肺": "J44", "骨质疏松": "M81",
         "骨关节病": "M19", "帕金森病": "G20", "阿尔茨海默病": "F00", "其他痴呆": "F03", "精神疾病": "F20",
         "恶性肿瘤": "C34", "慢性肾病": "N18", "白内障": "H25", "听力障碍": "H91"}
MENTAL_ITEMS = ("B.3.1", "B.3.2", "B.3.3", "B.3.4", "B.3.5", "B.3.6", "B.4.3", "B.4.5")
MOBILITY_ITEMS = ("B.2.1", "B.2.2", "B.2.3", "B.2.4", "B.1.3", "B.1.8", "B.4.4")


@dataclass
class Summary:
    published: int = 0
    overdue: int = 0
    open: int = 0


def _png(width: int, height: int, pixels: set[tuple[int, int]]) -> str:
    """A tiny black-on-white PNG (no imaging library needed) as a data URL."""
    rows = b"".join(b"\x00" + bytes(0 if (x, y) in pixels else 255 for x in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))
    return "data:image/png;base64," + base64.b64encode(png).decode()


def scribble(rng: random.Random) -> str:
    """A signature-like stroke: a wandering line across a 240×80 box."""
    pixels: set[tuple[int, int]] = set()
    y = 40.0
    for x in range(10, 230):
        y = min(70.0, max(10.0, y + rng.uniform(-3.5, 3.5)))
        for dy in (0, 1):
            pixels.add((x, int(y) + dy))
    return _png(240, 80, pixels)


def _answers(rng: random.Random, instrument: rules.Instrument, person: Person, today: dt.date) -> dict[str, int]:
    age = person.age(today)
    conditions = set(person.chronic_conditions or [])
    frailty = max(0.0, min(0.95, (age - 60) / 60 + rng.gauss(0, 0.12)))
    if person.disability_grade:
        frailty += 0.25 if person.disability_grade <= 2 else 0.1
    mental = frailty + (0.45 if conditions & {"阿尔茨海默病", "其他痴呆"} else 0.0)
    mobility = frailty + (0.3 if conditions & {"脑卒中", "帕金森病"} else 0.0)
    answers = {}
    for code, item in instrument.items.items():
        weight = mental if code in MENTAL_ITEMS else mobility if code in MOBILITY_ITEMS else frailty
        scores = sorted({o.score for o in item.options})
        # Most elders score full marks on most items; impairment lowers scores item by item.
        drop = max(0.0, weight + rng.gauss(0, 0.15) - 0.2) * len(scores) * 1.3
        answers[code] = scores[max(0, len(scores) - 1 - int(drop))]
    return answers


def _assessment(rng: random.Random, instrument: rules.Instrument, person: Person, *, today: dt.date,
                agency: Organization, assessors: list[User], requested_by: User, reviewer: User | None) -> Assessment:
    assessed_on = today - dt.timedelta(days=rng.randint(5, 470))  # some older than the 12-month interval
    answers = _answers(rng, instrument, person, today)
    diagnoses = sorted({ICD10[c] for c in person.chronic_conditions or [] if c in ICD10})
    frail = sum(answers.values()) < 60
    risk = {"fall": rng.choice((0, 0, 1, 2))} if frail and rng.random() < 0.3 else {}
    result = rules.score(instrument, answers, diagnoses=diagnoses, risk_events_30d=risk)
    first, second = rng.sample(assessors, 2)
    stamp = timezone.make_aware(dt.datetime.combine(assessed_on, dt.time(10, rng.randint(0, 59))))
    return Assessment(
        person_id=person.pk, number="", reason=AssessmentReason.ROUTINE if rng.random() < 0.6 else AssessmentReason.FIRST,
        status=AssessmentStatus.PUBLISHED, requested_by=requested_by, requested_at=stamp - dt.timedelta(days=9),
        agency=agency, assigned_by=requested_by, assigned_at=stamp - dt.timedelta(days=7),
        assessor_1=first, assessor_2=second, visit_at=stamp,
        instrument_code=instrument.code, instrument_version=instrument.version, assessed_on=assessed_on,
        basic_info={"informant_name": person.name, "informant_relation": "本人",
                    "height_cm": rng.randint(148, 178), "weight_kg": rng.randint(42, 82)},
        answers=answers, diagnoses=diagnoses, risk_events_30d=risk,
        result=result.as_dict(), total_score=result.total, preliminary_level=result.preliminary_level,
        final_level=result.final_level, submitted_at=stamp, reviewed_by=reviewer, reviewed_at=stamp + dt.timedelta(days=1),
        review_note="审核通过", published_at=stamp + dt.timedelta(days=1), valid_from=assessed_on,
        valid_until=add_months(assessed_on, 12), objection_until=assessed_on + dt.timedelta(days=15),
    )


def _batches(qs: Any) -> Iterator[list[Person]]:
    batch: list[Person] = []
    for person in qs.iterator(chunk_size=BATCH):
        batch.append(person)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def generate_assessments(seed: int, *, share: float = 0.8, open_share: float = 0.01) -> Summary:
    """Assess about `share` of the active people; leave about `open_share` with an open request."""
    rng = random.Random(seed + 42)
    instrument = rules.load_instrument(rules.DEFAULT_INSTRUMENT)
    agency = Organization.objects.filter(kind=OrganizationKind.ASSESSMENT_AGENCY).order_by("pk").first()
    district = Region.objects.filter(level=RegionLevel.DISTRICT).order_by("pk").first()
    requester = User.objects.filter(memberships__role=Role.DISTRICT_OFFICER).order_by("pk").first()
    if agency is None or district is None or requester is None:
        return Summary()
    assessors = list(User.objects.filter(memberships__organization=agency, memberships__role=Role.ASSESSOR)
                     .order_by("pk"))
    if len(assessors) < 2:
        return Summary()
    AssessmentSettings.objects.get_or_create(district=district)
    reviewer = User.objects.filter(memberships__organization=agency, memberships__role=Role.AGENCY_MANAGER).first()
    signatures = {user.pk: scribble(rng) for user in assessors}
    informant_signature = scribble(rng)
    today = timezone.localdate()
    summary = Summary()
    people = (Person.objects.filter(status=PersonStatus.ACTIVE).select_related("residence_region")
              .order_by("pk"))
    for batch in _batches(people):
        with transaction.atomic():
            drawn = [(p, rng.random()) for p in batch]
            published = [_assessment(rng, instrument, p, today=today, agency=agency, assessors=assessors,
                                     requested_by=requester, reviewer=reviewer) for p, r in drawn if r < share]
            opened = [Assessment(person_id=p.pk, number="", reason=AssessmentReason.FIRST, requested_by=requester,
                                 instrument_code=instrument.code, instrument_version=instrument.version,
                                 request_note="社区摸底发现，申请首次评估")
                      for p, r in drawn if share <= r < share + open_share]
            for index, assessment in enumerate(published + opened):
                # A.1.1 numbers, unique per run: person id keeps them stable for a seed.
                assessment.number = f"PG{today:%Y}D{assessment.person_id:08d}"
                if index >= len(published):
                    assessment.number = f"PG{today:%Y}R{assessment.person_id:08d}"
            bulk_insert(Assessment, published + opened)
            ids = dict(Assessment.objects.filter(number__in=[a.number for a in published])
                       .values_list("number", "id"))
            records, signed = [], []
            names = {user.pk: user.display_name for user in assessors}
            for assessment in published:
                assessment.pk = ids[assessment.number]
                records.append(CapabilityRecord(person_id=assessment.person_id, assessment_id=assessment.pk,
                                                level=assessment.final_level or 0,
                                                assessed_on=assessment.assessed_on or today,
                                                valid_until=assessment.valid_until or today))
                signed.extend([
                    Signature(assessment_id=assessment.pk, role=SignerRole.ASSESSOR_1, name=names[assessment.assessor_1_id or 0],
                              image=signatures[assessment.assessor_1_id or 0], user_id=assessment.assessor_1_id,
                              signed_at=assessment.submitted_at or timezone.now()),
                    Signature(assessment_id=assessment.pk, role=SignerRole.ASSESSOR_2, name=names[assessment.assessor_2_id or 0],
                              image=signatures[assessment.assessor_2_id or 0], user_id=assessment.assessor_2_id,
                              signed_at=assessment.submitted_at or timezone.now()),
                    Signature(assessment_id=assessment.pk, role=SignerRole.INFORMANT,
                              name=assessment.basic_info["informant_name"], image=informant_signature,
                              signed_at=assessment.submitted_at or timezone.now()),
                ])
            bulk_insert(CapabilityRecord, records)
            bulk_insert(Signature, signed)
        summary.published += len(published)
        summary.open += len(opened)
        summary.overdue += sum(1 for a in published if a.valid_until and a.valid_until < today)
    _work_in_progress(agency, assessors, requester, today)
    return summary


def _work_in_progress(agency: Organization, assessors: list[User], requester: User, today: dt.date) -> None:
    """Put a few open requests further along, through the real actions, so the agency's queue and
    the assessors' visit list have something in them: four assigned, two of them booked."""
    # Events on the file since the last assessment: these people need an immediate re-assessment.
    recent = CapabilityRecord.objects.filter(assessed_on__lt=today - dt.timedelta(days=30)).order_by("person_id")[:12]
    ReassessmentTrigger.objects.bulk_create([
        ReassessmentTrigger(person_id=record.person_id, kind=kind, occurred_on=today - dt.timedelta(days=3 + index),
                            note=note, recorded_by=requester)
        for index, (record, (kind, note)) in enumerate(zip(recent, [
            (TriggerKind.FALL, "家中跌倒，髋部软组织挫伤"), (TriggerKind.HOSPITAL_DISCHARGE, "脑梗住院治疗后出院"),
            (TriggerKind.HEALTH_CHANGE, "家属反映近期记忆力明显下降")] * 4, strict=False))
    ])
    manager = User.objects.filter(memberships__organization=agency, memberships__role=Role.AGENCY_MANAGER).first()
    if manager is None:
        return
    waiting = list(Assessment.objects.filter(status=AssessmentStatus.REQUESTED).select_related("person__residence_region")
                   .order_by("pk")[:4])
    for index, assessment in enumerate(waiting):
        assigned = actions.assign_agency(assessment, agency=agency, acting_user=requester)
        if index < 2:
            visit = timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=1), dt.time(9 + 5 * index, 30)))
            actions.schedule_visit(assigned, assessor_1=assessors[0], assessor_2=assessors[1], visit_at=visit,
                                   acting_user=manager)
