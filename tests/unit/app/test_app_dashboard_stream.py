"""The dashboard's push stays cheap: paced publication, one latest-only mailbox per page."""

from __future__ import annotations

import pytest

from krakenbot.app.dashboard_stream import Mailbox, Pacer, sse_frame

NS = 1_000_000_000


def test_the_pacer_allows_one_publication_per_interval() -> None:
    pacer = Pacer(0.5)
    assert pacer.due(0) and pacer.wait_s(0) == 0
    pacer.published(10 * NS)
    assert not pacer.due(10 * NS + NS // 4)
    assert pacer.wait_s(10 * NS + NS // 4) == 0.25
    assert pacer.due(10 * NS + NS // 2)
    pacer.reset()  # a new page: due at once
    assert pacer.due(10 * NS)
    with pytest.raises(ValueError):
        Pacer(0)


def test_a_slow_page_gets_the_newest_state_never_a_backlog() -> None:
    box = Mailbox()
    assert not box
    for seq in range(1000):  # a page that does not read while the hub publishes
        box.put("snapshot", f'{{"seq": {seq}}}')
    box.put("equity", '{"points": []}')
    assert box.take() == [("snapshot", '{"seq": 999}'), ("equity", '{"points": []}')]
    assert box.replaced == 999 and not box and box.take() == []
    with pytest.raises(ValueError):
        box.put("other", "{}")


def test_topics_come_out_in_a_fixed_order() -> None:
    box = Mailbox()
    box.put("equity", "e")
    box.put("snapshot", "s")
    assert box.take() == [("snapshot", "s"), ("equity", "e")]


def test_an_event_on_the_wire() -> None:
    assert sse_frame("snapshot", '{"a": 1}', 7) == b'id: 7\nevent: snapshot\ndata: {"a": 1}\n\n'
    with pytest.raises(ValueError):
        sse_frame("snapshot", "two\nlines", 1)
