"""The simulator answers hostile request bodies the way Kraken does: HTTP 200 with an error
envelope (API.md §1: API errors are HTTP 200 + `error`), never HTTP 500; and its command
line refuses bad values with a usage message and exit status 2, never a traceback."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from simtest_helpers import TIMEOUT, RestClient, kraken_sign

from krakenbot.cli import build_parser
from krakenbot.sim import Sim

DEEP = b"[" * 100_000 + b"]" * 100_000
HOSTILE_JSON = [
    b'{"pair":' + DEEP + b"}",
    b'{"pair":"\\ud800"}',  # a lone surrogate, as JSON writes it
    b'{"\\udfff":"XLMUSD"}',
    b'{"pair":["XLMUSD","\\ud800\\ud800"]}',
    b'{"pair":"\xed\xa0\x80"}',  # the same surrogate, raw (invalid UTF-8)
]


async def _envelope(resp: aiohttp.ClientResponse) -> dict[str, Any]:
    async with resp:
        assert resp.status == 200, await resp.text()
        doc = await resp.json()
    assert isinstance(doc, dict) and len(doc["error"]) == 1, doc
    assert doc["error"][0].startswith("E") and ":" in doc["error"][0]
    return doc


@pytest.mark.parametrize("body", HOSTILE_JSON)
async def test_a_hostile_public_body_gets_the_error_envelope(
    sim: Sim, session: aiohttp.ClientSession, body: bytes
) -> None:
    resp = await session.post(
        f"{sim.rest_url}/0/public/Ticker",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=TIMEOUT,
    )
    doc = await _envelope(resp)
    assert doc["error"] == ["EGeneral:Invalid arguments"]


@pytest.mark.parametrize("body", HOSTILE_JSON)
async def test_a_hostile_signed_private_body_gets_the_error_envelope(
    sim: Sim, session: aiohttp.ClientSession, rest: RestClient, body: bytes
) -> None:
    nonce = rest.next_nonce()
    signed = b'{"nonce":' + nonce.encode() + b"," + body[1:]
    path = "/0/private/Balance"
    resp = await session.post(
        f"{sim.rest_url}{path}",
        data=signed,
        headers={
            "API-Key": sim.api_key,
            "API-Sign": kraken_sign(sim.api_secret, path, nonce, signed),
            "Content-Type": "application/json",
        },
        timeout=TIMEOUT,
    )
    await _envelope(resp)


async def test_a_surrogate_nonce_gets_the_error_envelope(
    sim: Sim, session: aiohttp.ClientSession
) -> None:
    resp = await session.post(
        f"{sim.rest_url}/0/private/Balance",
        data=b'{"nonce":"\\ud800"}',
        headers={"API-Key": sim.api_key, "API-Sign": "AAAA", "Content-Type": "application/json"},
        timeout=TIMEOUT,
    )
    await _envelope(resp)


async def test_the_simulator_still_answers_after_hostile_bodies(rest: RestClient) -> None:
    assert "XXLMZUSD" in (await rest.public("Ticker", pair="XLMUSD"))["result"]
    assert "ZUSD" in await rest.ok("Balance")


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--port", "70000"], "--port"),
        (["--port", "-1"], "--port"),
        (["--ws-auth-port", "99999"], "--ws-auth-port"),
        (["--balance", "USD=NaN"], "--balance"),
        (["--balance", "USD=sNaN"], "--balance"),
        (["--balance", "USD=inf"], "--balance"),
        (["--balance", "USD=-5"], "--balance"),
        (["--balance", "USD=1e999999999"], "--balance"),
        (["--balance", "=5"], "--balance"),
        (["--speed", "nan"], "--speed"),
        (["--speed", "inf"], "--speed"),
    ],
)
def test_bad_sim_options_are_usage_errors(
    capsys: pytest.CaptureFixture[str], args: list[str], named: str
) -> None:
    with pytest.raises(SystemExit) as info:  # argparse's usage error: refused while parsing
        build_parser().parse_args(["sim", *args])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert named in err and "Traceback" not in err
