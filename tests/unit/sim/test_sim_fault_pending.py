"""`FaultInjector.pending()`: what is armed and has not fired yet (the chaos suite waits on it)."""

from __future__ import annotations

from krakenbot.sim.faults import KRAKEN_ERROR, TIMEOUT, FaultInjector


def test_pending_counts_each_armed_fault_until_it_fires() -> None:
    f = FaultInjector()
    assert f.pending() == {}
    f.latency(2.0)  # lasts until cleared: never "pending"
    f.timeout(count=2, method="AddOrder")
    f.kraken_error("EService:Busy")
    f.ws_malformed(channel="private")
    f.ws_truncated(count=3)
    f.book_bad_checksum()
    f.exec_duplicate()
    f.exec_out_of_order(count=2)
    f.exec_sequence_gap()
    f.ws_drop_on("add_order", executed=True, count=2)
    assert f.pending() == {
        "timeout": 2,
        "kraken_error": 1,
        "ws_malformed": 1,
        "ws_truncated": 3,
        "book_bad_checksum": 1,
        "exec_duplicate": 1,
        "exec_out_of_order": 2,
        "exec_sequence_gap": 1,
        "ws_drop_on": 2,
    }
    assert f.take_http("AddOrder", (TIMEOUT,)) is not None
    assert f.take_http("Balance", (KRAKEN_ERROR,)) is not None
    assert f.take_ws_garbage("private") == "malformed"
    assert f.take_bad_checksum()
    assert f.take_ws_method_drop("add_order") is True
    pending = f.pending()
    assert pending["timeout"] == 1
    assert "kraken_error" not in pending and "ws_malformed" not in pending
    assert "book_bad_checksum" not in pending
    assert pending["ws_drop_on"] == 1
    assert f.take_ws_method_drop("add_order") is True
    assert "ws_drop_on" not in f.pending()
    f.clear()
    assert f.pending() == {}
