"""krakenbot: a safe-first asyncio trading daemon for Kraken spot."""

__version__ = "0.1.0"
