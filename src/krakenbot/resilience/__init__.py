"""Retry pacing and circuit breaking, independent of any transport."""
