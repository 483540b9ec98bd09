"""The figures benchmarks/bench_peers.py prints from its runs (issue 15).

A run is `{client: [microseconds of round 0, round 1, ...]}`, every client's list the same
length and in round order (round k of every client was timed in the same round-robin pass).
Two kinds of figure:
* unpaired — each client's run median and p99, and the ratio of run medians to the floor
  (REST clients to `floor_post`, WS clients to `floor_ws`). On a loaded machine these swing
  (±15 % was seen): a client's orders and its floor's were timed at different moments.
* paired — for each round, a client's latency divided by (and minus) its floor's in the SAME
  round, then the median over the run's rounds; and, against krakenbot, the per-round
  difference peer − kb (positive: krakenbot faster in that round), medianed per run. A load
  spike hits both sides of a pair, so these hold still where the unpaired ones swing.
The "target" lines are judged on the paired figures; each line says which figure it uses.
"""

from __future__ import annotations

import statistics

FLOOR = {
    "kb_rest": "floor_post",
    "ccxt": "floor_post",
    "pks_rest": "floor_post",
    "kb_ws": "floor_ws",
    "pks_ws": "floor_ws",
    "kbb_rest": "floor_post",  # --base: another checkout's krakenbot, same rounds
    "kbb_ws": "floor_ws",
}
REST_PEERS = ("ccxt", "pks_rest")
TARGET_RATIO = 1.10
Run = dict[str, list[float]]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def paired_ratio(run: Run, name: str, other: str) -> float:
    """Median over the run's rounds of name's latency / other's in the same round."""
    return statistics.median(a / b for a, b in zip(run[name], run[other], strict=True))


def paired_diff(run: Run, name: str, other: str) -> float:
    """Median over the run's rounds of name's latency − other's in the same round (µs)."""
    return statistics.median(a - b for a, b in zip(run[name], run[other], strict=True))


def _peers_of(ours: str, names: list[str]) -> list[str]:
    """The clients krakenbot's `ours` path is compared with: every peer (kb_ws) or the REST
    peers (kb_rest); never a floor, never itself."""
    if ours == "kb_ws":
        return [n for n in names if not n.startswith(("floor", "kb"))]
    return [n for n in names if n in REST_PEERS]


def _vs(run: Run, ours: str, name: str) -> str:
    """peer − ours, paired (µs; positive: ours faster), or blank when not compared."""
    if ours not in run or name not in _peers_of(ours, list(run)):
        return ""
    return f"{paired_diff(run, name, ours):+.1f}"


def run_table(r: int, run: Run) -> None:
    print(f"run {r + 1}:")
    print(
        f"  {'client':<11} {'median':>8} {'p99':>8} {'floor':>10} {'paired x':>9} "
        f"{'paired d':>9} {'peer-kb_ws':>11} {'peer-kb_rest':>13}"
    )
    for n, times in run.items():
        floor = FLOOR.get(n, "")
        ratio = f"{paired_ratio(run, n, floor):.3f}x" if floor in run else ""
        diff = f"{paired_diff(run, n, floor):+.1f}" if floor in run else ""
        print(
            f"  {n:<11} {statistics.median(times):8.1f} {pct(times, 0.99):8.1f} "
            f"{floor:>10} {ratio:>9} {diff:>9} {_vs(run, 'kb_ws', n):>11} "
            f"{_vs(run, 'kb_rest', n):>13}"
        )


def _wins(runs: list[Run], ours: str, other: str) -> str:
    """'unpaired|paired/runs': in how many runs `ours` was faster than `other` by run medians,
    and by the run's median per-round difference; blank when the two are not compared."""
    if ours not in runs[0] or other not in _peers_of(ours, list(runs[0])):
        return ""
    unpaired = sum(statistics.median(run[ours]) < statistics.median(run[other]) for run in runs)
    paired = sum(paired_diff(run, other, ours) > 0 for run in runs)
    return f"{unpaired}|{paired}/{len(runs)}"


def summary(runs: list[Run]) -> None:
    names = list(runs[0])
    medians = {n: [statistics.median(run[n]) for run in runs] for n in names}
    p99s = {n: [pct(run[n], 0.99) for run in runs] for n in names}
    print(
        "all runs (median of the run figures; 'x' unpaired = ratio of run medians, "
        "'paired x' = median of the runs' paired ratios; wins: runs krakenbot was faster, "
        "unpaired by run medians / paired by the run's median per-round difference):"
    )
    print(
        f"  {'client':<11} {'median':>8} {'p99':>8} {'p99 worst':>10} {'x':>6} "
        f"{'paired x':>9} {'paired d':>9} {'kb_ws wins':>11} {'kb_rest wins':>13}  "
        "per-run medians | per-run paired x"
    )
    for n in names:
        floor = FLOOR.get(n, "")
        med = statistics.median(medians[n])
        ratio = f"{med / statistics.median(medians[floor]):.2f}x" if floor in medians else ""
        pairs = [paired_ratio(run, n, floor) for run in runs] if floor in medians else []
        pratio = f"{statistics.median(pairs):.3f}x" if pairs else ""
        pdiff = (
            f"{statistics.median(paired_diff(run, n, floor) for run in runs):+.1f}"
            if floor in medians
            else ""
        )
        ws_wins, rest_wins = _wins(runs, "kb_ws", n), _wins(runs, "kb_rest", n)
        print(
            f"  {n:<11} {med:8.1f} {statistics.median(p99s[n]):8.1f} {max(p99s[n]):10.1f} "
            f"{ratio:>6} {pratio:>9} {pdiff:>9} {ws_wins:>11} {rest_wins:>13}  "
            + " ".join(f"{m:.0f}" for m in medians[n])
            + (" | " + " ".join(f"{p:.3f}" for p in pairs) if pairs else "")
        )
    print("  (wins: 'u|p/n' = faster in u of n runs by run medians, in p of n paired)")


def _floor_target(runs: list[Run], ours: str) -> str:
    floor = FLOOR[ours]
    ratios = [paired_ratio(run, ours, floor) for run in runs]
    within = sum(x <= TARGET_RATIO for x in ratios)
    overall = statistics.median(ratios)
    verdict = "met" if within == len(runs) else f"NOT met in {len(runs) - within} run(s)"
    return (
        f"target {ours} <= {TARGET_RATIO:.2f}x {floor} in every run "
        f"[paired ratio, per-round {ours}/{floor} medianed per run]: {verdict} "
        f"(median {overall:.3f}x; runs " + " ".join(f"{x:.3f}" for x in ratios) + ")"
    )


def _peer_target(runs: list[Run], ours: str) -> str:
    peers = _peers_of(ours, list(runs[0]))
    if not peers:
        return f"target {ours} faster than the peers: no peer ran"
    lost = {p: sum(paired_diff(run, p, ours) <= 0 for run in runs) for p in peers}
    verdict = "met" if not any(lost.values()) else "NOT met"
    detail = ", ".join(
        f"{p} {len(runs) - lost[p]}/{len(runs)} (median {ours} faster by "
        f"{statistics.median(paired_diff(run, p, ours) for run in runs):+.1f} us)"
        for p in peers
    )
    return (
        f"target {ours} faster than {'every peer' if ours == 'kb_ws' else 'ccxt and pks_rest'}"
        f" in every run [paired difference, per-round peer-{ours} medianed per run, > 0 = "
        f"win]: {verdict}: {detail}"
    )


def against_base(runs: list[Run]) -> None:
    """--base: this checkout's client against the other one's, round by round."""
    for ours in ("kb_ws", "kb_rest"):
        base = ours.replace("kb_", "kbb_")
        if ours in runs[0] and base in runs[0]:
            ratios = [paired_ratio(run, ours, base) for run in runs]
            diffs = [paired_diff(run, ours, base) for run in runs]
            print(
                f"{ours} / {base} (this checkout / --base, paired per round, medianed per run): "
                f"median {statistics.median(ratios):.3f}x, {statistics.median(diffs):+.1f} us; "
                "runs " + " ".join(f"{x:.3f}" for x in ratios)
            )


def targets(runs: list[Run]) -> None:
    against_base(runs)
    for ours in ("kb_ws", "kb_rest"):
        if ours in runs[0] and FLOOR[ours] in runs[0]:
            print(_floor_target(runs, ours))
        if ours in runs[0]:
            print(_peer_target(runs, ours))


def report(runs: list[Run], orders: int, warmup: int, loop: str) -> None:
    print(
        f"{len(runs)} runs x {orders} orders per client (warm-up {warmup} left out), "
        f"round-robin, {loop} event loop, microseconds per order (send -> answer); "
        "'paired' = per round, against the other client's order in the same round"
    )
    for r, run in enumerate(runs):
        run_table(r, run)
    summary(runs)
    targets(runs)
    print(
        "nautilus_trader (Rust-core Kraken client, orders over REST) needs Python >= 3.12: "
        "not run here; issue 15 measured it at 0.94-1.10x the bare aiohttp floor (unpaired)."
    )
