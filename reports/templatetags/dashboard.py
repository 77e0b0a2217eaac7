"""The lead's dashboard table, written in Python: a 500-agent team is 500 rows of a link, a sparkline
and the cells, and the template engine's loop over them cost some 15 ms of the page (benchmarks/
dashboard.py), against 1 ms here. The selector (``reports.selectors.dashboard``) gives the rows as
plain data; every piece of the table's HTML is written here or in ``reports/team_dashboard.html``."""

from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe

from reports.selectors.dashboard import Dashboard, DashboardRow
from reports.sparklines import Sparklines

register = template.Library()


def _lines(dashboard: Dashboard) -> Sparklines:
    """What the sparklines of a dashboard share: its days and the name of the metric they draw."""
    return Sparklines(dashboard.days, name=dashboard.trend_metric)


def _tds(row: DashboardRow) -> str:
    """The row's cells as ``<td>`` elements, joined here rather than in a template loop: a 500-agent
    table is 3,000 of them. The class is OK, BELOW or ""; the text is escaped."""
    return "".join(f'<td class="{css}">{escape(text)}</td>' for css, text in row.cells)


def _svg(lines: Sparklines, row: DashboardRow) -> str:
    return "" if row.trend is None else lines.svg(row.trend.values, target=row.trend.target)


@register.simple_tag
def sparkline(dashboard: Dashboard, row: DashboardRow) -> SafeString:
    """A row's trend as an inline SVG (``reports.sparklines``), or nothing when the plan has no metric
    to draw: for the few rows of the team and its groups; ``agent_rows`` draws the agents'."""
    return mark_safe(_svg(_lines(dashboard), row))  # noqa: S308 (the SVG of reports.sparklines)


@register.simple_tag
def agent_rows(dashboard: Dashboard, team_url: str) -> SafeString:
    """The agents' rows: each name leads to the agent's calls in the window (``reports:agent_calls``,
    spelt out under ``team_url``, the team's own URL: reversing it 500 times cost 10 ms; a test checks
    the two agree), the sparkline beside it, then the cells against target."""
    window, prefix, lines = dashboard.window, escape(team_url), _lines(dashboard)
    # An agent's row always names its agent (``DashboardRow.agent`` is None on the team's and groups').
    rows = [
        f'<tr><td><a href="{prefix}agents/{row.agent.pk}/calls/?window={window}">'  # type: ignore[union-attr]
        f"{escape(row.label)}</a></td><td>{_svg(lines, row)}</td>{_tds(row)}</tr>"
        for row in dashboard.agents
    ]
    return mark_safe("".join(rows) or "<tr><td>—</td></tr>")  # noqa: S308 (escaped, or our own HTML)
