"""GET /metrics of a real stack trading against the simulator over loopback: scraped over
HTTP, parsed with prometheus_client's parser, every figure where it must be after a fill,
whichever transport carried the orders (the private WebSocket by default, or REST)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest
from enginetest_helpers import XLM, Scripted, buy, engine_env, ours, settings_for
from tests.eventually import eventually
from tests.metrics_check import assert_labels_allowed, parse, value

from krakenbot.app.health_server import HealthServer
from krakenbot.app.observers import attach
from krakenbot.app.status_model import StatusReport
from krakenbot.clock import SystemClock
from krakenbot.domain.sections import OrderTransport
from krakenbot.net.kraken_venue import KrakenVenue


@pytest.mark.parametrize("transport", list(OrderTransport), ids=str)
async def test_a_scrape_after_a_fill_shows_the_order_its_timings_and_the_position(
    tmp_path: Path, transport: OrderTransport
) -> None:
    strategy = Scripted()
    settings = settings_for(tmp_path, order_transport=transport)
    async with engine_env(tmp_path, strategy, settings=settings) as env:
        metrics = attach(env.stack, SystemClock())
        server = HealthServer(
            host="127.0.0.1",
            port=0,
            report=lambda: StatusReport(running=True, source="daemon"),
            request_stop=lambda reason: None,
            token="t" * 32,
            metrics=metrics.render,
        )
        await server.start()
        try:
            await eventually(strategy.books, what="a verified book")
            venue = env.stack.venue
            assert isinstance(venue, KrakenVenue)
            ws = venue.ws  # orders sent before the private socket is up go over REST
            await eventually(lambda: ws is None or ws.usable, what="the private WebSocket up")
            strategy.later(lambda v: [buy("30", "0.289000")])  # answers the next book frame
            env.sim.control.set_mid(XLM, Decimal("0.290001"))
            await eventually(lambda: ours(env), what="order on the exchange")
            env.sim.control.set_mid(XLM, Decimal("0.288000"))  # fills it
            await eventually(lambda: env.engine.core.portfolio.position(XLM) == 30, what="long")
            await eventually(  # the protective stop acknowledged: its ack is timed too
                lambda: any(
                    o.tag == "protect" and o.order_id for o in env.engine.core.registry.live()
                ),
                what="the protective stop acknowledged",
            )
            async with (
                aiohttp.ClientSession() as http,
                http.get(f"{server.url}/metrics") as response,
            ):
                assert response.status == 200
                assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
                text = await response.text()
        finally:
            await server.close()
    samples = parse(text)
    assert value(samples, "krakenbot_orders_submitted_total") >= 2  # the entry and its stop
    assert value(samples, "krakenbot_fills_total") >= 1
    assert value(samples, "krakenbot_breaker_state") == 0
    assert value(samples, "krakenbot_trading_state") == 0
    assert value(samples, "krakenbot_position", pair=XLM) == 30
    assert value(samples, "krakenbot_exposure_usd") > 0
    # The entry and its protective stop, each acknowledged over the configured transport.
    sent = env.sim.control.requests()
    wire = {OrderTransport.WEBSOCKET: "ws:add_order", OrderTransport.REST: "rest:AddOrder"}
    assert sent.get(wire[transport], 0) >= 2, sent
    other = "rest" if transport is OrderTransport.WEBSOCKET else "websocket"
    assert value(samples, "krakenbot_order_ack_seconds_count", transport=transport.value) >= 2
    assert value(samples, "krakenbot_order_ack_seconds_count", transport=other) == 0
    assert value(samples, "krakenbot_tick_to_order_seconds_count") == 1  # the entry only
    assert value(samples, "krakenbot_ws_message_lag_seconds_count", channel="public") > 0
    assert value(samples, "krakenbot_ws_message_lag_seconds_count", channel="private") > 0
    assert value(samples, "krakenbot_ledger_write_seconds_count") > 0
    assert value(samples, "krakenbot_trading_counter", pair=XLM) > 0  # the adds charged it
    assert value(samples, "krakenbot_trading_counter_limit") == 60  # tier starter
    assert_labels_allowed(samples, (XLM,))
    for order in env.engine.core.registry.all():  # no order id anywhere in the scrape
        assert order.cl_ord_id not in text
        assert order.order_id is None or order.order_id not in text
