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
