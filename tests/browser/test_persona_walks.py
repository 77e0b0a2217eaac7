"""A walk per persona through the demo contact center (``make demo``'s data), in English and in Chinese,
in a real browser: HR's month (import, compute from the overview, review, approve, statements, questions,
reviews, what-if), a lead's floor (alerts, dashboard, an agent's calls filtered, a review) and an agent's
pay (My pay, the calls behind a line, how it was computed, a question). Each step is kept as a
screenshot under ``test-artifacts/walks/<language>/`` (docs/hr-month.md shows HR's in English)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.utils import timezone

from calls.generator import csv_lines, generate_calls
from calls.months import center_tz
from incentives.demo import DEMO_PASSWORD
from incentives.models import Dispute, Period, Review
from reports.demo import demo_seed_all
from tests.browser.conftest import ARTIFACTS, log_in

pytestmark = [pytest.mark.browser]


class Walk:
    """A persona's walk: each ``shot`` is a numbered screenshot of the whole page."""

    def __init__(self, page, language: str, persona: str):
        self.page, self.persona, self.step = page, persona, 0
        self.folder = ARTIFACTS / "walks" / language
        self.folder.mkdir(parents=True, exist_ok=True)
        self.language = language

    def start(self, username: str) -> None:
        log_in(self.page, username, DEMO_PASSWORD)
        self.page.context.add_cookies(
            [
                {
                    "name": settings.LANGUAGE_COOKIE_NAME,
                    "value": self.language,
                    "url": re.match(r"https?://[^/]+", self.page.url).group(0) + "/",
                }
            ]
        )

    def go(self, url: str) -> None:
        response = self.page.goto(url)
        assert response is not None and response.status == 200, url

    def shot(self, name: str) -> None:
        self.page.wait_for_load_state("networkidle")
        assert self.page.locator("html").get_attribute("lang") == self.language
        self.step += 1
        path = self.folder / f"{self.persona}-{self.step:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)

    def text(self) -> str:
        return self.page.locator("main").inner_text()


@pytest.fixture
def demo(transactional_db):
    return demo_seed_all()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_each_persona_walks_the_demo(page, demo, language, tmp_path):
    page.set_viewport_size({"width": 1280, "height": 900})
    _hr(Walk(page, language, "hr"), demo, tmp_path)
    _lead(Walk(page, language, "lead"))
    _agent(Walk(page, language, "agent"))


def _hr(walk: Walk, demo, tmp_path) -> None:
    page = walk.page
    now = timezone.localtime(timezone.now(), center_tz())
    this_month = f"{now.year}-{now.month:02d}"
    walk.start("hr")
    walk.go("/hr/")
    # This month's calls are in, not computed: the overview offers to compute it.
    opened = Period.objects.filter(year=now.year, month=now.month).first()
    offers = [f"/months/{this_month}/compute/"] + (
        [f"/periods/{opened.pk}/compute/"] if opened else []
    )
    assert any(f'action="{url}"' in page.content() for url in offers)
    assert Period.objects.filter(status=Period.Status.APPROVED).count() == 6
    walk.shot("overview")

    # A file of calls for this month: uploaded, previewed, imported; its page offers the month.
    rows = list(
        generate_calls(
            employee_ids=["A01", "A02", "B01"],
            first_day=dt.date(now.year, now.month, 1),
            days=1,
            calls_per_agent_day=20,
            seed=16,
            prefix="WALK",
        )
    )
    upload = tmp_path / f"calls-{this_month}.csv"
    upload.write_text("".join(csv_lines(rows)))
    walk.go("/imports/")
    page.set_input_files("input[name=file]", str(upload))
    page.fill("input[name=source]", "acd")
    page.click("button[name=preview]")
    assert page.locator("input[name=kept]").input_value() != ""  # the file is kept for the import
    walk.shot("import-preview")
    page.click("button[name=import]")
    page.wait_for_url("**/imports/*/")
    page.wait_for_selector("#import-status[data-final='1']")
    walk.shot("import-result")

    page.click(f"form[action='/months/{this_month}/compute/'] button")  # the result's next step
    page.wait_for_url("**/hr/")
    walk.shot("computed")
    period = Period.objects.get(year=now.year, month=now.month)
    page.click(f"a[href^='/hr/periods/{period.pk}/runs/']")
    page.wait_for_url("**/review/")
    walk.shot("approval-review")
    page.click(f"a[href^='/periods/{period.pk}/runs/']")  # approve: the confirmation page first
    walk.shot("approve-confirm")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/hr/")
    period.refresh_from_db()
    assert period.status == Period.Status.APPROVED

    walk.go(f"/statements/?period={period.pk}&sort=-payout")
    assert re.search(r"20 rows|共 20 行", walk.text())  # the month's 20 agents
    walk.shot("statements")

    walk.go("/questions/?state=open")
    question = Dispute.objects.get(answered_at=None)
    assert question.question in walk.text()
    walk.shot("questions")
    page.fill("textarea[name=answer]", "193 of 200 calls answered: the line is right.")
    page.click("form:has(textarea[name=answer]) button[type=submit]")
    page.wait_for_url("**/questions/?state=open")
    question.refresh_from_db()
    assert question.answered_at is not None
    walk.shot("question-answered")

    # The demo month's interviews: at every stage, the progress across teams above them.
    demo_month = Period.objects.get(year=demo.year, month=demo.month)
    walk.go(f"/reviews/?period={demo_month.pk}")
    stages = set(Review.objects.filter(period=demo_month).values_list("stage", flat=True))
    assert stages == {s for s, _label in Review.Stage.choices}
    assert page.locator("table").count() >= 2
    walk.shot("reviews")
    # A token for the payroll system, shown once.
    walk.go("/hr/api-access/")
    page.fill("input[name=name]", "payroll-system")
    page.click("main form button[type=submit]")
    assert re.fullmatch(r"[0-9a-f]{40}", page.locator("#new-token code").inner_text())
    walk.shot("api-access")

    walk.go("/hr/what-if/")  # ready to run: the pilot's draft over the latest month
    page.click("main form button[type=submit]")
    page.wait_for_url("**/hr/what-if/?version=*")
    assert page.locator("table tbody tr").count() >= 10
    walk.shot("what-if")


def _lead(walk: Walk) -> None:
    page = walk.page
    walk.start("lead_a")
    walk.go("/team/")
    assert page.locator("li.message.error").count() >= 1  # the team's open alerts
    walk.shot("team")
    page.click("a[href*='/dashboard/']")
    page.wait_for_load_state()
    walk.go(page.url.split("?")[0] + "?window=month")  # the month so far, not only today
    assert page.locator("#top-fifth tbody tr").count() >= 1  # the best fifth against the rest
    walk.shot("dashboard")
    page.click("a[href*='/agents/'][href*='/calls/']")
    page.wait_for_load_state()
    page.select_option("select[name=answered]", "no")
    page.click("main form.filters button[type=submit]")
    page.wait_for_url("**answered=no**")
    walk.shot("agent-calls-unanswered")
    walk.go("/reviews/")
    page.click("table tbody a")
    page.wait_for_url("**/reviews/*/")
    walk.shot("review")


def _agent(walk: Walk) -> None:
    page = walk.page
    walk.start("a01")
    walk.go("/me/")
    walk.shot("my-pay")
    page.click("details.computed summary")
    walk.shot("how-computed")
    page.locator("a[href^='/me/lines/']").first.click()
    page.wait_for_url("**/me/lines/*/calls/")
    assert page.locator("table tbody tr").count() > 0
    walk.shot("calls-behind-a-line")
    walk.go("/me/")
    asked = Dispute.objects.count()
    question = page.locator("details.question").first
    question.locator("summary").click()
    question.locator("textarea[name=question]").fill("Why is this line lower than last month?")
    question.locator("button[type=submit]").click()
    page.wait_for_url("**/me/**")
    assert Dispute.objects.count() == asked + 1
    walk.shot("questioned")
    walk.go("/reviews/")
    walk.shot("reviews")
