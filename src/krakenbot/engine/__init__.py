"""The trading engine: the thin async loop around the pure decision core."""
