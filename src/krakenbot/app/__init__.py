"""Composition root: the daemon, its services, signals, health and the trading stack."""
