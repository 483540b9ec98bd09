"""Venue-neutral domain types: enums, instruments, events and commands (stdlib only)."""
