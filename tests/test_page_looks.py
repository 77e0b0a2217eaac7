"""Pages that look like a product: one date and time format per language (Django's localised formats,
never a fixed one in a template), the admin under the product's name, a favicon and a title on every
page."""

import re
from pathlib import Path

from django.utils import translation

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
NAMED = {"DATE_FORMAT", "DATETIME_FORMAT", "TIME_FORMAT"}


def test_templates_format_dates_only_by_the_languages_named_formats():
    fixed = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0)}"
        for path in TEMPLATES.rglob("*.html")
        for match in re.finditer(r'\|(?:date|time):"([^"]*)"', path.read_text())
        if match.group(1) not in NAMED
    ]
    assert fixed == []


def test_the_admin_carries_the_products_name(client, people):
    client.force_login(people.hr)
    page = client.get("/admin/").content.decode()
    assert "Contact-center incentives · configuration" in page
    assert "Django administration" not in page and "Django site admin" not in page
    with translation.override("zh-hans"):
        client.cookies["django_language"] = "zh-hans"
        assert (
            "Django"
            not in client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-hans")
            .content.decode("utf-8")
            .split("<title>")[1]
            .split("</title>")[0]
        )


def test_every_page_has_a_favicon_and_a_title(client, people):
    for user, url in (
        (people.hr, "/hr/"),
        (people.lead_a, "/team/"),
        (people.agent_a.user, "/me/"),
    ):
        client.force_login(user)
        page = client.get(url).content.decode()
        assert 'rel="icon" href="/static/favicon.svg"' in page, url
        title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
        assert title.strip().endswith("Contact-center incentives"), url
