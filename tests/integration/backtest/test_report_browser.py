"""The HTML report in a real headless Chromium (Debian's `chromium`, never a browser
playwright downloads): it opens from the file with no network, its charts render with data
(plotly's DOM nodes, every trace non-empty), the round-trip table is complete, and the page
logs no error."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from krakenbot.cli import main

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


def test_the_report_renders_offline_with_data_and_no_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("CI must install chromium (.ci/run does)")
        pytest.skip("no /usr/bin/chromium here (apt-get install chromium)")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    params = "entry_z=1.5,take_profit_pct=0.5"
    assert main(["backtest", "--data", "bundled", "--params", params, "--out", "r", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    report = Path(doc["report"])
    assert "cdn" not in report.read_text(encoding="utf-8").lower().split("<body>")[0]
    problems: list[str] = []
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(report.as_uri())
            page.wait_for_selector(".js-plotly-plot .scatterlayer", timeout=30_000)
            shown = page.evaluate(
                """() => {
                    const plots = [...document.querySelectorAll('.js-plotly-plot')];
                    return {
                        plots: plots.length,
                        traces: plots.flatMap(p => p.data.map(t => t.x.length)),
                        paths: document.querySelectorAll('.scatterlayer .trace path').length,
                        rows: document.querySelectorAll('#trades tbody tr').length,
                        about: document.querySelector('h1 + p').textContent,
                        money: [...document.querySelectorAll('#trades tbody tr')]
                            .flatMap(r => [r.cells[7].textContent, r.cells[8].textContent]),
                        summary: Object.fromEntries([...document.querySelectorAll('table')][0]
                            .querySelectorAll('tbody tr').values()
                            .map(r => [...r.cells].map(c => c.textContent))),
                    };
                }"""
            )
        finally:
            browser.close()
    assert problems == []
    assert all(url.startswith("file://") for url in requests), requests  # nothing fetched
    assert shown["plots"] == 1 and shown["paths"] > 0
    # price, buys, sells, equity, drawdown: every trace has points (there were trades)
    assert len(shown["traces"]) == 5 and min(shown["traces"]) > 0, shown
    # The summary reads as the terminal's does: rounded figures a person can take in.
    assert shown["summary"]["win rate"].endswith(" %"), shown["summary"]
    assert all("E-" not in v and "{" not in v for v in shown["summary"].values()), shown
    assert shown["rows"] == len(json.loads(Path(doc["result"]).read_text())["trades"]) > 0
    # The header says where the data came from in words, and round trips' PnL and fees
    # are money to 4 places, as the summary shows it.
    assert "source bundled" in shown["about"] and "{" not in shown["about"], shown["about"]
    assert all(re.fullmatch(r"-?\d+\.\d{4}", v) for v in shown["money"]), shown["money"]
