"""Benchmarks and the chaos suite: scripts that print figures (never part of pytest's run)."""
