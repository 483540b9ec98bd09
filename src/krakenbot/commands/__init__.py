"""One module per CLI sub-command, each exposing `register(subparsers) -> None`.

A module registers its parser and sets `handler=<callable(args) -> int | Awaitable[int]>`
with `set_defaults`. Modules whose names start with `_` are helpers, not commands.
"""
