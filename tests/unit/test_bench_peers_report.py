"""benchmarks/bench_peers_report.py: the paired figures compare clients round by round, so a
load spike that hits one round moves neither the paired ratio nor who wins."""

from __future__ import annotations

from benchmarks.bench_peers_report import Run, _wins, paired_diff, paired_ratio

# Round 2 and 3 ran under load (every client 3x slower); the floor's quiet rounds outnumber
# kb_ws's, so its unpaired median is lower than the load-free 100 us, kb_ws's is higher.
RUN: Run = {
    "floor_ws": [100.0, 100.0, 300.0, 300.0, 100.0],
    "kb_ws": [105.0, 105.0, 315.0, 315.0, 105.0],
    "pks_ws": [110.0, 110.0, 330.0, 330.0, 110.0],
}


def test_paired_ratio_and_difference_are_per_round() -> None:
    assert paired_ratio(RUN, "kb_ws", "floor_ws") == 1.05
    assert paired_diff(RUN, "kb_ws", "floor_ws") == 5.0
    assert paired_diff(RUN, "pks_ws", "kb_ws") == 5.0


def test_paired_win_survives_a_spike_the_run_medians_misjudge() -> None:
    # kb_ws's quiet rounds are fewer than pks_ws's: its run median lands on a loaded round.
    run: Run = {
        "kb_ws": [105.0, 315.0, 315.0, 315.0, 105.0],
        "pks_ws": [110.0, 110.0, 110.0, 330.0, 110.0],
    }
    assert paired_diff(run, "pks_ws", "kb_ws") == 5.0  # pks_ws slower, round by round
    assert _wins([run], "kb_ws", "pks_ws") == "0|1/1"  # lost by medians, won paired
    assert _wins([run], "kb_ws", "kb_ws") == ""  # never compared with itself or a floor
