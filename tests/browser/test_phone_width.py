"""On a phone (390 × 844, an iPhone 12 to 15) the pages fit the screen's width: the page itself never
scrolls sideways; a wide table scrolls inside its own box. In English and in Chinese, whose words wrap
differently."""

import datetime as dt

import pytest
from django.conf import settings

from incentives import services
from tests.browser.conftest import ARTIFACTS, log_in
from tests.factories import PASSWORD, AgentFactory, PeriodFactory
from tests.incentives.test_compute import OCT, _calls, _start

pytestmark = [pytest.mark.browser]

PHONE = {"width": 390, "height": 844}
SEP = dt.datetime(2026, 9, 15, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def two_approved_months(people, django_capture_on_commit_callbacks):
    """September and October approved, so the agent's page charts two months; a long name and a
    bigger team, as real rosters have."""
    people.team_a.name = "Inbound customer service · Shanghai day shift"
    people.team_a.save()
    long_name = AgentFactory(
        employee_id="A9",
        name="Agent with a rather long name for a narrow screen",
        team=people.team_a,
    )
    for when in (SEP, OCT):
        for agent, answered in ((people.agent_a, 96), (people.agent_a2, 92), (long_name, 99)):
            _calls(agent, answered, 100, when=when)
        _calls(people.agent_b, 90, 100, when=when)
    for month in (9, 10):
        period = PeriodFactory(year=2026, month=month)
        services.period_approve(
            period=period, run=_start(period, django_capture_on_commit_callbacks)
        )


@pytest.fixture
def phone(chromium, live_server, request):
    context = chromium.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="en-US",
        base_url=live_server.url,
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def _fits(page, name: str) -> None:
    page.wait_for_load_state("networkidle")
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    scroll_width, inner_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    # A phone's browser zooms a page wider than its screen out (the layout viewport, innerWidth, grows
    # with the content), so both are held to the phone's own width.
    assert scroll_width <= inner_width + 1 and inner_width == PHONE["width"], (
        f"{name}: the page is {scroll_width} px wide, laid out {inner_width} px wide"
    )


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_main_pages_fit_a_phones_width(phone, people, two_approved_months, language):
    pages = [
        ("hr_admin", ["/hr/", "/hr/plans/"]),
        ("a1", ["/me/"]),
        ("lead_a", ["/team/"]),
    ]
    for username, urls in pages:
        log_in(phone, username, PASSWORD)
        phone.context.add_cookies(
            [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": phone.url}]
        )
        for url in urls:
            phone.goto(url)
            assert phone.locator("html").get_attribute("lang") == language
            _fits(phone, f"phone-{language}-{url.strip('/').replace('/', '-')}")
    # The wide table is still all there: it scrolls inside its box.
    log_in(phone, "hr_admin", PASSWORD)
    phone.goto("/hr/")
    assert phone.locator("canvas#scores-chart").is_visible()
    box = phone.locator(".scroll").first
    assert box.evaluate("el => getComputedStyle(el).overflowX") == "auto"
