"""The lead's dashboard table, written in Python: a 500-agent team is 500 rows of a link, a sparkline
and the cells, and the template engine's loop over them cost some 15 ms of the page (benchmarks/
dashboard.py), against 1 ms here."""

import html

from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def agent_rows(dashboard, team_url: str) -> SafeString:
    """The agents' rows: each name leads to the agent's calls in the window (``reports:agent_calls``,
    spelt out under ``team_url``, the team's own URL: reversing it 500 times cost 10 ms; a test checks
    the two agree), the sparkline beside it, then the cells against target."""
    window, prefix = dashboard.window, html.escape(team_url)
    rows = [
        f'<tr><td><a href="{prefix}agents/{row.agent.pk}/calls/?window={window}">'
        f"{html.escape(row.label)}</a></td><td>{row.trend.svg}</td>{row.tds}</tr>"
        for row in dashboard.agents
    ]
    return mark_safe("".join(rows) or "<tr><td>—</td></tr>")  # noqa: S308 (escaped, or our own HTML)
