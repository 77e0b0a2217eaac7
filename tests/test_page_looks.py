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
        (people.hr, "/imports/"),
        (people.hr, "/questions/"),
        (people.hr, "/statements/"),
        (people.hr, "/reviews/"),
        (people.hr, "/hr/what-if/"),
        (people.hr, "/hr/plans/"),
        (people.lead_a, "/team/"),
        (people.lead_a, "/team/team-a/dashboard/"),
        (people.lead_a, f"/team/team-a/agents/{people.agent_a.pk}/calls/"),
        (people.agent_a.user, "/me/"),
        (people.agent_a.user, "/leaderboard/"),
    ):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert 'rel="icon" href="/static/favicon.svg"' in page, url
        title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
        assert title.strip().endswith("Contact-center incentives"), url


def test_forms_draw_label_help_and_errors_in_place(client, people):
    """Every form through templates/forms/form.html: a block per field, its label (capitalised, tied
    to its input), its help under it, its error beside it — and no page draws a form by hand."""
    client.force_login(people.hr)
    page = client.post("/imports/", {"kind": "calls", "source": "acd", "import": "1"})
    html = page.content.decode()
    file_block = html.split('<label for="id_file">', 1)[1].split('<div class="field', 1)[0]
    assert file_block.startswith("File</label>")  # the label "file", capitalised
    assert "CSV (UTF-8 or GBK, any delimiter), XLSX, or an Asterisk queue_log." in file_block
    assert "Choose the file to import." in file_block  # the error beside its field
    assert 'id="id_file_helptext"' in file_block and (
        'aria-describedby="id_file_helptext id_file_error"' in file_block
    )
    assert '<div class="field check">' in html  # a checkbox before its label
    hand_drawn = [
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*.html")
        if re.search(r"\.as_(p|table|ul)\b", path.read_text())
    ]
    assert hand_drawn == []
