"""Simplified Chinese and English from the first page on."""

from django.test import override_settings


@override_settings(LANGUAGE_CODE="zh-hans")
def test_the_default_language_is_simplified_chinese(client, db):
    html = client.get("/accounts/login/").content.decode()
    assert "登录" in html and 'lang="zh-hans"' in html


def test_the_language_switch_turns_the_page_english_and_back(client, db):
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/accounts/login/"})
    assert "用户名" in client.get("/accounts/login/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    html = client.get("/accounts/login/").content.decode()
    assert "Username" in html and "用户名" not in html


def test_the_projects_own_strings_have_chinese_translations(client, people):
    """Our catalogue (locale/zh_Hans), not only Django's: the agent's page speaks Chinese."""
    client.force_login(people.agent_a.user)
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/me/"})
    html = client.get("/me/").content.decode()
    assert "我的奖金" in html and "My pay" not in html


def test_every_message_of_the_catalogue_has_its_chinese_translation():
    """No entry left empty or fuzzy (makemessages marks a changed string fuzzy: it would show the old
    translation, or English)."""
    from pathlib import Path

    from django.conf import settings

    text = (Path(settings.BASE_DIR) / "locale/zh_Hans/LC_MESSAGES/django.po").read_text("utf-8")
    untranslated = []
    for block in text.split("\n\n")[1:]:  # the first block is the header
        lines = [line for line in block.splitlines() if not line.startswith("#~")]
        if not lines:
            continue
        msgid = next((line for line in lines if line.startswith("msgid ")), "")
        if "#, fuzzy" in block:
            untranslated.append(msgid)
            continue
        value, in_msgstr = "", False
        for line in lines:
            if line.startswith("msgstr"):
                in_msgstr = True
                value += line.split(" ", 1)[1].strip('"')
            elif in_msgstr and line.startswith('"'):
                value += line.strip('"')
            elif in_msgstr:
                in_msgstr = False
        if msgid and not value:
            untranslated.append(msgid)
    assert untranslated == []


def test_the_compiled_catalogue_holds_what_the_po_file_says():
    """The .mo the pages read is compiled from the .po as it is now: a .po edited but not compiled (or
    one msgfmt cannot compile) leaves its new strings in English on every page."""
    import re
    from pathlib import Path

    from django.conf import settings
    from django.utils import translation

    text = (Path(settings.BASE_DIR) / "locale/zh_Hans/LC_MESSAGES/django.po").read_text("utf-8")
    # Single-line entries without a context or a plural: enough to catch a stale .mo.
    pairs = re.findall(r'^msgid "((?:[^"\\]|\\.)+)"\nmsgstr "((?:[^"\\]|\\.)+)"$', text, re.M)
    assert len(pairs) > 300
    stale = []
    with translation.override("zh-hans"):
        for msgid, msgstr in pairs:
            unescape = lambda s: s.encode().decode("unicode_escape").encode("latin-1").decode()  # noqa: E731
            if translation.gettext(unescape(msgid)) != unescape(msgstr):
                stale.append(msgid)
    assert stale == []
