"""The composition root: start-up sequence, the one TaskGroup, signals, graceful and safe stops.

Only this package chooses sim, paper or live (DESIGN.md principle 6); everything below it
receives sections, a Venue and a feed. May import anything.
"""
