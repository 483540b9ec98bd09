"""How the daemon's run ends: the verdict on a graceful stop, and the failure behind a
TaskGroup's exception group.

Owns: `stop_problems` (pure: the shutdown's report and whether the dead man's switch was
disabled in, what keeps a graceful stop from being a clean one out — a position left without
its protective stop at the exchange, or a switch that may still be armed and would cancel
the stops at its deadline; app/supervisor.py then exits 1, not 0), `first_leaf` and `describe`.
Imports: stdlib, engine.health. No I/O.
"""

from __future__ import annotations

from krakenbot.engine.health import ShutdownReport


def stop_problems(report: ShutdownReport | None, *, disarmed: bool) -> tuple[str, ...]:
    """Why a graceful stop leaves a position unprotected (empty: it does not)."""
    problems: list[str] = []
    if report is not None and report.uncovered:
        names = ", ".join(report.uncovered)
        problems.append(f"NO protective stop at the exchange for the position in {names}")
    if not disarmed and report is not None and report.kept:
        problems.append(
            "the dead man's switch may still be armed: at its deadline Kraken would cancel "
            "the protective stop(s)"
        )
    return tuple(problems)


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def first_leaf(
    group: BaseExceptionGroup[Exception], preferred: type[BaseException]
) -> BaseException:
    """The root cause in a (nested) exception group; a `preferred` one first."""
    leaves: list[BaseException] = []

    def walk(exc: BaseException) -> None:
        if isinstance(exc, BaseExceptionGroup):
            for inner in exc.exceptions:
                walk(inner)
        else:
            leaves.append(exc)

    walk(group)
    for leaf in leaves:
        if isinstance(leaf, preferred):
            return leaf
    return leaves[0]


__all__ = ["describe", "first_leaf", "stop_problems"]
