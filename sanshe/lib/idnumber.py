"""GB 11643-1999 citizen ID numbers (公民身份号码).

Only the structure is checked: 6-digit area code, a real birth date, a 3-digit sequence
whose parity gives the sex, and the ISO 7064 MOD 11-2 check character. The area code is
deliberately *not* checked against a list: elders' numbers carry codes that were created,
renamed or retired long after their birth (standards.md §7.1), and refusing them would
refuse most of the people the platform serves.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
# Full-width digits and letters arrive from Chinese input methods and spreadsheets.
_FULLWIDTH = str.maketrans("０１２３４５６７８９ＸｘＸ", "0123456789XXX")
_SHAPE_18 = re.compile(r"^\d{17}[\dX]$")
_SHAPE_15 = re.compile(r"^\d{15}$")
EARLIEST_BIRTH = dt.date(1880, 1, 1)

MALE = "1"  # GB/T 2261.1
FEMALE = "2"


class IdNumberError(ValueError):
    """The number is not a valid GB 11643 ID number; the message is for the user."""


@dataclass(frozen=True, slots=True)
class IdNumber:
    number: str
    birth_date: dt.date
    sex: str  # GB/T 2261.1 code: "1" male, "2" female
    converted_from_15: bool = False

    @property
    def area_code(self) -> str:
        return self.number[:6]


def compute_check_char(first17: str) -> str:
    """Return the MOD 11-2 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def normalize(raw: str) -> str:
    return re.sub(r"\s+", "", str(raw)).translate(_FULLWIDTH).upper()


def convert_15_to_18(number15: str) -> str:
    """Upgrade a pre-1999 15-digit number: insert the century '19' and add a check character."""
    first17 = number15[:6] + "19" + number15[6:]
    return first17 + compute_check_char(first17)


# Imports check each number twice (row rules, then file-wide duplicates); results are immutable.
@functools.lru_cache(maxsize=8192)
def parse_id_number(raw: str, *, today: dt.date | None = None) -> IdNumber:
    """Validate and parse an ID number, converting 15-digit numbers to 18 digits."""
    number = normalize(raw)
    if not number:
        raise IdNumberError("身份证号码不能为空")
    converted = False
    if _SHAPE_15.match(number):
        number = convert_15_to_18(number)
        converted = True
    elif len(number) not in (15, 18):
        raise IdNumberError(f"身份证号码应为18位（或旧版15位），当前为{len(number)}位")
    elif not _SHAPE_18.match(number):
        raise IdNumberError("身份证号码只能包含数字，最后一位可以是X")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdNumberError(f"身份证号码中的出生日期 {number[6:14]} 不是有效日期") from None
    today = today or dt.date.today()  # noqa: DTZ011 -- a calendar date in local time
    if birth < EARLIEST_BIRTH or birth > today:
        raise IdNumberError(f"身份证号码中的出生日期 {birth.isoformat()} 不合理")
    expected = compute_check_char(number[:17])
    if number[17] != expected:
        raise IdNumberError("身份证号码校验位不正确，请核对是否录入有误")
    sex = MALE if int(number[16]) % 2 == 1 else FEMALE
    return IdNumber(number=number, birth_date=birth, sex=sex, converted_from_15=converted)


def check_consistency(
    id_number: IdNumber, *, birth_date: dt.date | None, sex: str | None
) -> list[str]:
    """Return Chinese messages for entered values that disagree with the ID number."""
    problems = []
    if birth_date is not None and birth_date != id_number.birth_date:
        problems.append(
            f"出生日期 {birth_date.isoformat()} 与身份证号码中的 "
            f"{id_number.birth_date.isoformat()} 不一致"
        )
    if sex in (MALE, FEMALE) and sex != id_number.sex:
        label = "男" if id_number.sex == MALE else "女"
        problems.append(f"性别与身份证号码不一致（号码第17位表示{label}性）")
    return problems


def make_id_number(area_code: str, birth_date: dt.date, sequence: int) -> str:
    """Build a structurally valid number (used by the demo district and tests)."""
    first17 = f"{area_code}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + compute_check_char(first17)
