"""Strategies: pure decision code. A strategy sees typed events and a read-only view and
returns intents; it never calls the exchange, the database or the clock. Imports: domain,
errors (and resilience if ever needed); never net/, store/, engine/."""
