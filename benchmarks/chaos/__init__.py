"""The chaos suite (issue 11): `python -m benchmarks.chaos`, see __main__.py and the README.

Pure parts, unit-tested in tests/unit/chaos: audit.py (ledger vs exchange, locked-out exits),
verdict.py (the soak's flatness), mutate.py (the fuzz's inputs), crash.plan. The rest are
thin drivers of real processes: simproc.py (an external simulator and its control endpoint),
daemonproc.py (a live daemon), one module per scenario, profiles.py (short and long).
"""
