"""How the daemon's run ends: the failure behind a TaskGroup's exception group.

Owns: `first_leaf` and `describe`. Imports: stdlib. No I/O.
"""

from __future__ import annotations


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


__all__ = ["describe", "first_leaf"]
