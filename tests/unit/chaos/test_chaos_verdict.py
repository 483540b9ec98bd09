"""The soak's flatness verdict (benchmarks/chaos/verdict.py)."""

from __future__ import annotations

from benchmarks.chaos.verdict import MIB, Bounds, Sample, soak_verdict


def _samples(rss_per_s: float = 0.0, fds_step_at: float | None = None) -> list[Sample]:
    out = []
    for i in range(100):
        t = float(i * 2)
        rss = int(60 * MIB + rss_per_s * t) + (i % 3) * MIB  # noise: +0..2 MiB
        fds = 25 + (3 if fds_step_at is not None and t >= fds_step_at else 0)
        out.append(Sample(t, rss, fds, 40 + i % 2))
    return out


def test_steady_readings_with_noise_are_flat() -> None:
    verdict = soak_verdict(_samples(), warmup_s=20, bounds=Bounds())
    assert verdict.flat and verdict.samples == 90
    assert [g.metric for g in verdict.growths] == ["rss", "fds", "tasks"]
    assert "RSS 61.0->61.0 MiB (+0.0, bound 16)" in verdict.describe()


def test_a_steady_leak_is_not_flat() -> None:
    # 0.2 MiB a second for 200 s: ~32 MiB between the first and last fifth.
    verdict = soak_verdict(_samples(rss_per_s=0.2 * MIB), warmup_s=20, bounds=Bounds())
    assert not verdict.flat
    assert [g.metric for g in verdict.growths if not g.flat] == ["rss"]


def test_growth_during_the_warm_up_does_not_count() -> None:
    samples = [Sample(float(t), 10 * MIB if t < 30 else 60 * MIB, 25, 40) for t in range(100)]
    assert soak_verdict(samples, warmup_s=30, bounds=Bounds()).flat
    assert not soak_verdict(samples, warmup_s=0, bounds=Bounds()).flat


def test_leaked_file_descriptors_are_not_flat_within_the_bound_they_are() -> None:
    samples = _samples(fds_step_at=150)
    assert not soak_verdict(samples, warmup_s=20, bounds=Bounds(fds=2)).flat
    assert soak_verdict(samples, warmup_s=20, bounds=Bounds(fds=4)).flat


def test_too_few_readings_after_the_warm_up_fail() -> None:
    verdict = soak_verdict(_samples()[:15], warmup_s=20, bounds=Bounds())
    assert not verdict.flat and "only 5 readings" in verdict.describe()
