"""The dashboard: what a section admin sees after supporters acted."""
from __future__ import annotations

import datetime as dt
import re

from core.admin.charts import Series, line_chart, nice_ceiling
from core.admin.views.dashboard import campaign_days
from core.models import utcnow
from core.testing import read_counts, section_client
from tests.admin.conftest import sign_in
from tests.conftest import sign, text_of


def act(app) -> None:
    """Three signatures in France (two on one case), one in Belgium."""
    fr = section_client(app, "fr.localhost")
    for n in range(2):
        assert sign(fr, "sonia-dahmani", email=f"fr{n}@example.org").status_code == 303
    assert sign(fr, "damisoa", email="fr0@example.org").status_code == 303
    be = section_client(app, "be.localhost", accept_language="fr")
    assert sign(be, "sonia-dahmani", email="be0@example.org", country="BE").status_code == 303


def per_day_table(html: str) -> tuple[list[str], dict[str, list[str]]]:
    table = re.search(r'<table class="admin-table" id="per-day-table">.*?</table>', html, re.S).group(0)
    headers = [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r'<th scope="col"[^>]*>(.*?)</th>', table, re.S)]
    rows = {}
    for day, cells in re.findall(r'<time datetime="([\d-]+)">.*?</th>(.*?)</tr>', table, re.S):
        rows[day] = re.findall(r'<td class="number">(\d+)</td>', cells)
    return headers, rows


def test_dashboard_numbers_match_the_actions_taken(admin_app):
    act(admin_app)
    counts = read_counts(admin_app)
    assert (counts.section("fr"), counts.world()) == (3, 4)
    admin = sign_in(admin_app, "fr.localhost", "fr-admin@example.org")
    page = admin.get("/admin/")
    assert page.status_code == 200
    html, text = page.get_data(as_text=True), text_of(page)

    # The share of the world total, from the counters.
    assert "3 actions, 75.0% of the 4 actions taken worldwide." in text
    # Totals by action type.
    totals = re.search(r'<table class="admin-table" id="totals">.*?</table>', html, re.S).group(0)
    assert "Signer la pétition 3" in text_of_html(totals) or "Sign the petition 3" in text_of_html(totals)
    # Goal progress per case.
    goals = text_of_html(re.search(r'id="goals">.*?</table>', html, re.S).group(0))
    assert re.search(r"Sonia Dahmani 2 [\d\s\u202f]+ ", goals) and re.search(r"Damisoa 1 ", goals)

    # The chart: an accessible image, no script.
    svg = re.search(r"<svg[^>]*>.*?</svg>", html, re.S).group(0)
    assert 'role="img"' in svg and 'aria-labelledby="per-day-title per-day-desc"' in svg
    assert re.search(r'<title id="per-day-title">[^<]+</title>', svg) and "<desc id=" in svg
    assert "<script" not in html
    # The table fallback holds the per-day numbers.
    headers, rows = per_day_table(html)
    today = utcnow().date().isoformat()
    sonia, damisoa = headers.index("Sonia Dahmani") - 1, headers.index("Damisoa") - 1
    assert rows[today][sonia] == "2" and rows[today][damisoa] == "1"
    assert all(n == "0" for day, cells in rows.items() if day != today for n in cells)
    assert "<details>" in html


def test_each_section_sees_its_own_numbers(admin_app):
    act(admin_app)
    page = sign_in(admin_app, "be.localhost", "be-admin@example.org").get("/admin/")
    assert "1 actions, 25.0% of the 4 actions taken worldwide." in text_of(page)
    headers, rows = per_day_table(page.get_data(as_text=True))
    today = utcnow().date().isoformat()
    assert rows[today][headers.index("Sonia Dahmani") - 1] == "1"
    assert sum(int(n) for cells in rows.values() for n in cells) == 1


def test_deliveries_by_status_on_the_dashboard(admin_app):
    act(admin_app)
    text = text_of(sign_in(admin_app, "fr.localhost", "fr-admin@example.org").get("/admin/"))
    assert "Deliveries by status" in text


def text_of_html(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def test_campaign_days_and_chart_drawing():
    opens, closes = dt.date(2026, 11, 20), dt.date(2026, 12, 31)
    assert campaign_days(opens, closes, dt.date(2026, 11, 19)) == []
    assert campaign_days(opens, closes, dt.date(2026, 11, 22)) == [opens, dt.date(2026, 11, 21), dt.date(2026, 11, 22)]
    assert len(campaign_days(opens, closes, dt.date(2027, 3, 1))) == 42
    assert [nice_ceiling(n) for n in (0, 1, 3, 7, 12, 230)] == [1, 1, 5, 10, 20, 500]
    svg = line_chart([opens], [Series("<b>Case</b>", [3])], title="T & t", description="D")
    assert "&lt;b&gt;Case&lt;/b&gt;" in svg and "<title id=\"chart-title\">T &amp; t</title>" in svg
