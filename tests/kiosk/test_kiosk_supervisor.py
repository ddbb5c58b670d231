"""The supervisor's page in Debian's chromium on the real demo checkpoint: the report for the period,
its figures against the audit log's own lines, the downloads, and who may see it."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.support.kiosk_browser import demo_config, keep_screenshot, log_in

pytestmark = [pytest.mark.slow, pytest.mark.live]  # a real service, or a browser: seconds per test

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _decided(state_dir: Path) -> int:
    """Crossings with a decision so far, counted from the audit log's JSON lines (no report code)."""
    text = (state_dir / "audit" / "audit.jsonl").read_text()
    complete = text[: text.rfind("\n") + 1]  # the service may be writing the last line right now
    records = [json.loads(line) for line in complete.splitlines()]
    return len({r["crossing_id"] for r in records if r["kind"] == "decision"})


def _wait_for_decisions(state_dir: Path, count: int, within_s: float = 90) -> None:
    deadline = time.monotonic() + within_s
    while _decided(state_dir) < count:
        assert time.monotonic() < deadline, f"the demo decided fewer than {count} crossings in {within_s} s"
        time.sleep(1)


def _ledger_built(state_dir: Path, within_s: float = 30) -> bool:
    """Whether the report's ledger has taken audit records within `within_s`, with no page asked for."""
    ledger = state_dir / "report" / "report.sqlite"
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if ledger.exists():
            with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True) as db:
                tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
                if "meta" in tables and db.execute("SELECT value FROM meta WHERE key = 'last_seq'").fetchone():
                    return True
        time.sleep(0.2)
    return False


def _cell(page: Page, section: str, header: str) -> int:
    """A number from the first table of a report section, by its column's header."""
    table = page.locator(f'section[data-lane="{section}"] table').first
    headers = [h.strip() for h in table.locator("th").all_inner_texts()]
    return int(table.locator("td").nth(headers.index(header)).inner_text())


def test_the_supervisor_sees_the_figures_and_downloads_them(tmp_path, start_service, page: Page):
    config = demo_config(tmp_path)
    running = start_service(config)
    running.wait_until("/healthz")
    state_dir = tmp_path / "state"
    _wait_for_decisions(state_dir, 2)
    # The service builds the report's ledger at start (in its report worker), before anyone asks for the page.
    assert _ledger_built(state_dir)

    before = _decided(state_dir)
    log_in(page, running.url, "super", "super", path="/supervisor")
    after = _decided(state_dir)
    # The demo keeps deciding while the page is built: the page's count lies between the two counts.
    for section in ("all", "lane-1", "lane-2"):
        expect(page.locator(f'section[data-lane="{section}"] h2')).to_be_visible()
    decided = _cell(page, "all", "decided")
    assert before <= decided <= after, (before, decided, after)
    assert _cell(page, "lane-1", "decided") + _cell(page, "lane-2", "decided") == decided
    # Charts drawn on the server, styled by the page's own stylesheet (the CSP allows no inline style).
    assert page.locator('section[data-lane="all"] figure.chart svg').count() == 3
    # to_have_css waits: the stylesheet may still be on its way when the page's HTML has arrived.
    expect(page.locator("figure.chart svg text").first).to_have_css("font-size", "11px")
    keep_screenshot(page, tmp_path / "supervisor.png", str(DOCS / "supervisor.png"))

    # One lane, per day: the form's choice comes back in the page and its downloads.
    page.select_option("select[name=lane]", "lane-1")
    page.select_option("select[name=bucket]", "day")
    page.click("form.period button")
    expect(page.locator('section[data-lane="lane-2"]')).to_have_count(0)
    expect(page.locator("section[data-lane=lane-1] figcaption").first).to_have_text("Crossings per day, by decision")
    link = page.locator("a", has_text="CSV")
    answer = page.request.get(running.url + link.get_attribute("href"))
    assert answer.status == 200 and "attachment" in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text())))
    assert {row["lane"] for row in rows} >= {"lane-1"} and "lane-2" not in {row["lane"] for row in rows}

    # A period the form cannot use is refused in words, on the page.
    page.goto(running.url + "/supervisor?from=yesterday")
    expect(page.locator(".banner")).to_contain_text("'from': 'yesterday' is not a date")


def test_only_a_supervisor_sees_the_report(service, page: Page):
    service.wait_until("/healthz")
    log_in(page, service.url, "officer", "officer", path="/supervisor")
    expect(page.locator(".banner")).to_contain_text("needs a supervisor account; officer is an officer")
    answer = page.request.get(service.url + "/supervisor/report.json")
    assert answer.status == 403
    page.context.clear_cookies()
    answer = page.request.get(service.url + "/supervisor/report.csv", max_redirects=0)
    assert answer.status == 303 and answer.headers["location"].startswith("/login?next=")
