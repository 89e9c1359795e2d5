"""Every page of the foundation opens without error for the roles that use it (screenshots
are kept in test-artifacts/ for review)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import log_in, shot
from tests.factories import PASSWORD, build_district, build_personas, make_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = {
    "district": ["/", "/people/", "/people/new/", "/people/imports/", "/regions/", "/account/", "/account/totp/"],
    "admin": ["/", "/organizations/", "/users/", "/regions/"],
    "auditor": ["/", "/audit/", "/people/"],
    "caregiver": ["/"],
}


@pytest.mark.parametrize("username", list(PAGES))
def test_each_page_opens_for_its_role(page: Any, live_server: Any, username: str) -> None:
    d = build_district()
    p = build_personas(d)
    person = make_person(d.community_a1, by=p.district_officer, name="欧阳秀兰", economic_status="tekun",
                         tekun_support_mode="dispersed", disability_category="4", disability_grade=2)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, username, PASSWORD)
    urls = PAGES[username] + ([f"/people/{person.pk}/", f"/people/{person.pk}/edit/"] if username == "district" else [])
    for url in urls:
        response = page.goto(page.base + url)
        assert response is not None
        assert response.status == 200, url
        assert "Traceback" not in page.content()
        shot(page, f"tour-{username}{url.replace('/', '_').rstrip('_') or '_home'}")
    assert errors == []
