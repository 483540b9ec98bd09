"""orders/housekeeping `due` / `next_at`: the backtest skips a tick only when these say the
order chores would do nothing, so an answer later than the truth would skip a timeout or a
cancel retry. Each case is checked against `housekeeping` itself at the answered time."""

from __future__ import annotations

from tests.unit.orders.test_manager import Kit, applied, kit, placed  # noqa: F401

from krakenbot.domain.commands import CancelIntent
from krakenbot.domain.effects import SendCancel
from krakenbot.domain.events import OrderAccepted
from krakenbot.orders import housekeeping

S = 1_000_000_000


def test_a_cancel_sent_is_due_again_after_its_retry_window(kit: Kit) -> None:  # noqa: F811
    order = placed(kit)
    applied(kit, OrderAccepted(order.cl_ord_id, "OTXID1", 3))
    kit.manager.cancel(CancelIntent(order.cl_ord_id, "test"), kit.ctx(), kit.out)
    kit.take()
    sent = kit.manager.cancel_sent_ns(order.cl_ord_id)
    assert sent == kit.now
    at = housekeeping.next_at(kit.manager)
    assert at is not None and kit.now < at <= sent + 5 * S  # cancel_retry_s=5
    assert not housekeeping.due(kit.manager, kit.now)
    assert housekeeping.due(kit.manager, sent + 5 * S)
    later = sent + 5 * S
    kit.manager.housekeeping(later, lambda: kit.ctx(now_ns=later), kit.out)
    assert any(isinstance(e, SendCancel) for e in kit.take())


def test_a_cancel_flagged_without_a_send_time_is_due_at_once(kit: Kit) -> None:  # noqa: F811
    order = placed(kit)
    applied(kit, OrderAccepted(order.cl_ord_id, "OTXID1", 3))
    kit.take()
    kit.manager.cancel(CancelIntent(order.cl_ord_id, "test"), kit.ctx(), kit.out)
    kit.manager.resend_cancel_now(order.cl_ord_id)  # a shutdown's: the next one at once
    assert kit.manager.cancel_sent_ns(order.cl_ord_id) is None
    at = housekeeping.next_at(kit.manager)
    assert at is not None and at <= kit.now
    assert housekeeping.due(kit.manager, kit.now)
