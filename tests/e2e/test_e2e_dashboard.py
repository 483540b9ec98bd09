"""End to end in a real browser: Debian's headless Chromium, driven by Playwright, against a
real `python -m krakenbot run --sim` daemon.

The page loads without a console error, shows the first fill within seconds of the
simulated exchange executing it, the Pause button moves the daemon to REDUCING and Resume
back to ACTIVE (checked with `status --json`), Halt asks for a confirmation (and does
nothing when it is declined), requests without the cookie or without the CSRF value are
refused, and the Stop button (confirmed) stops the daemon cleanly. No screenshot is kept.
Playwright never downloads a browser: it launches /usr/bin/chromium (`.ci/run` installs it).
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from e2e_helpers import cli, sim_daemon_env, start_sim_daemon
from playwright.async_api import BrowserContext, ConsoleMessage, Page, async_playwright, expect
from tests.eventually import eventually

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The first fill of `run --sim` comes ~20 s after start-up (the strategy warms up first); a
# loaded two-core machine needs longer.
FIRST_FILL_S = 150
SHOWN_WITHIN_S = 5.0

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's chromium is not installed (apt-get install -y chromium; .ci/run does)",
)


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[BrowserContext]:
    async with async_playwright() as p:
        context = await p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),  # a fresh user-data-dir
            executable_path=str(CHROMIUM),
            args=ARGS,
            headless=True,
        )
        try:
            yield context
        finally:
            await context.close()


def _fill_time_ns(home: Path, trade_id: str) -> int:
    db = home / "data" / "sim" / "trading.db"
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        row = conn.execute(
            "SELECT exchange_ns FROM fills WHERE trade_id = ?", (trade_id,)
        ).fetchone()
    finally:
        conn.close()
    assert row is not None, f"the page shows a fill the ledger lacks: {trade_id}"
    return int(row[0])


async def _state(home: Path, env: dict[str, str]) -> str | None:
    result = await cli(home, env, "status", "--json")
    return result.json().get("trading_state") if result.code in (0, 1) else None


async def _open(context: BrowserContext, link: str, errors: list[str]) -> Page:
    page = context.pages[0] if context.pages else await context.new_page()

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    await page.goto(link)
    assert page.url.endswith("/dashboard")  # the login link redirected, its code spent
    return page


async def test_the_dashboard_in_chromium(tmp_path: Path, browser: BrowserContext) -> None:
    env = sim_daemon_env()
    daemon = await start_sim_daemon(tmp_path, env)
    try:

        async def login_link() -> str | None:
            answer = await cli(tmp_path, env, "dashboard", "--json")
            return str(answer.json()["url"]) if answer.code == 0 else None

        link = await eventually(login_link, 60, "the daemon's login link", interval_s=0.5)
        await _check_page(tmp_path, env, browser, link)
        assert await daemon.wait(30) == 0  # the Stop button stopped it cleanly
    finally:
        daemon.kill9()


async def _check_page(home: Path, env: dict[str, str], context: BrowserContext, link: str) -> None:
    errors: list[str] = []
    page = await _open(context, link, errors)
    await expect(page.locator("#trading-state")).to_have_text("ACTIVE", timeout=20_000)
    await expect(page.locator("#link")).to_have_text("stream connected")
    # The header names exactly one mode: this daemon's.
    await expect(page.locator("#mode")).to_have_text("sim")
    header = await page.locator("header").inner_text()
    assert re.findall(r"\b(sim|paper|live)\b", header) == ["sim"], header
    # The first fill: the page shows it within seconds of the exchange executing it.
    row = page.locator("#fills .tabulator-row").first
    await row.wait_for(timeout=FIRST_FILL_S * 1000)
    seen_ns = time.time_ns()
    trade_id = await row.locator('[tabulator-field="trade_id"]').inner_text()
    lag_s = (seen_ns - _fill_time_ns(home, trade_id)) / 1e9
    assert lag_s < SHOWN_WITHIN_S, f"the fill showed {lag_s:.1f} s after it happened"
    # The position's protective stop (a stop-loss) shows its trigger as its price.
    stop = page.locator("#orders .tabulator-row", has_text="stop-loss").first
    await stop.wait_for(timeout=30_000)
    price = await stop.locator('[tabulator-field="price"]').inner_text()
    assert re.fullmatch(r"\d+\.\d+", price.strip()), f"stop-loss price cell: {price!r}"
    # Pause (not destructive: no confirmation), then Resume.
    await page.click("#btn-pause")
    await eventually(lambda: _is(home, env, "REDUCING"), 15, "REDUCING after Pause", interval_s=0.2)
    await expect(page.locator("#trading-state")).to_have_text("REDUCING", timeout=10_000)
    await page.click("#btn-resume")
    await eventually(lambda: _is(home, env, "ACTIVE"), 15, "ACTIVE after Resume", interval_s=0.2)
    # Halt asks first; declined, nothing happens.
    await page.click("#btn-halt")
    dialog = page.locator("#confirm-dialog")
    await dialog.wait_for(state="visible", timeout=5000)
    await page.click("#confirm-no")
    await dialog.wait_for(state="hidden", timeout=5000)
    await asyncio.sleep(1.0)  # give a wrongly sent halt time to land
    assert await _state(home, env) == "ACTIVE"
    assert errors == [], errors  # before the refusals below, which the console reports
    await _refusals(page, context)
    assert await _state(home, env) == "ACTIVE"
    # Stop, confirmed.
    await page.click("#btn-stop")
    await dialog.wait_for(state="visible", timeout=5000)
    await page.click("#confirm-yes")
    result = page.locator("#control-result")
    await expect(result).to_have_text(re.compile(r"^stop: stopping"), timeout=15_000)


async def _is(home: Path, env: dict[str, str], state: str) -> bool:
    return await _state(home, env) == state


async def _refusals(page: Page, context: BrowserContext) -> None:
    """Without the cookie: 401; with it but without the CSRF value: 403."""
    base = page.url.removesuffix("/dashboard")
    in_page = await page.evaluate(
        "async () => (await fetch('/control/halt', {method: 'POST'})).status"
    )
    assert in_page == 403  # the page's own cookie, no CSRF header
    cookies = await context.cookies(base)
    [session] = [c for c in cookies if c["name"].startswith("krakenbot_session_")]
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as client:
        async with client.post(f"{base}/control/halt", headers={"Origin": base}) as r:
            assert r.status == 401  # no cookie, no token
        cookie = {"Cookie": f"{session['name']}={session['value']}", "Origin": base}
        async with client.post(f"{base}/control/halt", headers=cookie) as r:
            assert r.status == 403  # the cookie but no CSRF value
        async with client.get(f"{base}/dashboard") as r:
            assert r.status == 401
