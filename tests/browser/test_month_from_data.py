"""HR's month without the admin, in a real browser: import October's calls (preview, then import the
kept file), compute the month the import offers, review and approve it; the agent then sees October."""

import datetime as dt

import pytest

from calls.generator import csv_lines, generate_calls
from incentives.models import Period
from tests.browser.conftest import log_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser]


def test_import_october_compute_approve_and_the_agent_sees_october(page, people, tmp_path):
    rows = list(
        generate_calls(
            employee_ids=["A1", "A2", "B1"],
            first_day=dt.date(2026, 10, 1),
            days=3,
            calls_per_agent_day=30,
            seed=11,
        )
    )
    upload = tmp_path / "october.csv"
    upload.write_text("".join(csv_lines(rows)))
    assert not Period.objects.exists()  # nobody opened October in the admin

    log_in(page, "hr_admin", PASSWORD)
    page.goto("/imports/")
    page.set_input_files("input[name=file]", str(upload))
    page.fill("input[name=source]", "acd")
    page.click("button[name=preview]")
    assert "october.csv is kept: press Import to import it" in page.locator("main").inner_text()
    page.click("button[name=import]")  # the file is not chosen again
    page.wait_for_url("**/imports/*/")
    page.wait_for_selector("#import-status[data-final='1']")
    result = page.locator("main").inner_text()
    assert "Applied" in result and f"{len(rows):,} rows in this month" in result
    assert "New or changed rows from Oct. 1, 2026 to Oct. 3, 2026." in result

    page.click("button:has-text('Compute 2026-10')")
    page.wait_for_url("**/hr/")
    assert "Run v1 of 2026-10" in page.locator("main").inner_text()
    page.click("text=Review and approve")
    page.click("text=Approve run v1: agents see their statements")
    page.click("button:has-text('Approve run v1')")
    page.wait_for_url("**/hr/")
    assert "2026-10 approved: agents now see run v1." in page.locator("main").inner_text()
    assert Period.objects.get(year=2026, month=10).status == Period.Status.APPROVED

    log_in(page, "a1", PASSWORD)
    page.goto("/me/")
    assert "2026-10" in page.locator("main").inner_text()
