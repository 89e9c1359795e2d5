"""GB 11643 ID numbers (standards.md §7.1): check digit, real birth date, sex digit, 15 → 18."""

from __future__ import annotations

import datetime as dt

import pytest

from sanshe.lib.idnumber import (
    IdNumberError,
    check_consistency,
    compute_check_char,
    convert_15_to_18,
    make_id_number,
    parse_id_number,
)

TODAY = dt.date(2026, 11, 22)


@pytest.mark.parametrize(
    ("number", "birth", "sex"),
    [
        ("11010519491231002X", dt.date(1949, 12, 31), "2"),  # the standard's own example
        ("440524188001010014", dt.date(1880, 1, 1), "1"),
    ],
)
def test_it_accepts_valid_numbers_and_derives_birth_and_sex(number: str, birth: dt.date, sex: str) -> None:
    parsed = parse_id_number(number, today=TODAY)
    assert parsed.birth_date == birth
    assert parsed.sex == sex


def test_it_accepts_lowercase_x_spaces_and_fullwidth_digits() -> None:
    assert parse_id_number(" 11010519491231002x ", today=TODAY).number == "11010519491231002X"
    assert parse_id_number("１１０１０５１９４９１２３１００２Ｘ", today=TODAY).number == "11010519491231002X"


def test_it_never_rejects_an_area_code_that_did_not_exist_in_the_birth_year() -> None:
    # 330110 (余杭区) was created in 2001; people born in 1930 hold it today.
    number = make_id_number("330110", dt.date(1930, 5, 1), 12)
    assert parse_id_number(number, today=TODAY).area_code == "330110"
    # An area code no list knows at all is still structurally valid.
    assert parse_id_number(make_id_number("999999", dt.date(1940, 1, 1), 1), today=TODAY)


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("110105194912310021", "校验位"),
        ("11010519491231002", "18位"),
        ("1101051949123100211", "18位"),
        ("11010519491331002X", "不是有效日期"),
        ("11010519490230002X", "不是有效日期"),
        ("1101051949123100A1", "只能包含数字"),
        ("", "不能为空"),
    ],
)
def test_it_refuses_invalid_numbers_with_a_chinese_reason(number: str, message: str) -> None:
    with pytest.raises(IdNumberError, match=message):
        parse_id_number(number, today=TODAY)


def test_it_refuses_a_birth_date_in_the_future() -> None:
    number = make_id_number("110105", dt.date(2027, 1, 1), 11)
    with pytest.raises(IdNumberError, match="不合理"):
        parse_id_number(number, today=TODAY)


def test_it_converts_legacy_15_digit_numbers() -> None:
    assert convert_15_to_18("110105491231002") == "11010519491231002X"
    parsed = parse_id_number("110105491231002", today=TODAY)
    assert parsed.number == "11010519491231002X"
    assert parsed.converted_from_15
    assert parsed.sex == "2"


def test_the_check_character_matches_mod_11_2_for_every_remainder() -> None:
    seen = {compute_check_char(f"11010519491231{n:03d}") for n in range(200)}
    assert seen == set("0123456789X")


def test_it_reports_a_birth_date_or_sex_that_disagrees_with_the_number() -> None:
    parsed = parse_id_number("11010519491231002X", today=TODAY)
    problems = check_consistency(parsed, birth_date=dt.date(1949, 12, 30), sex="1")
    assert len(problems) == 2
    assert "出生日期" in problems[0]
    assert "性别" in problems[1]
    assert check_consistency(parsed, birth_date=dt.date(1949, 12, 31), sex="2") == []
