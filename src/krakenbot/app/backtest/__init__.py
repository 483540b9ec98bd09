"""The backtest's shell: inputs read from files, the throwaway ledger, the outputs written
(result.json, the HTML report, the terminal summary) and the sweep's processes. The loop
itself, the venue and the figures are pure (krakenbot/backtest/)."""
