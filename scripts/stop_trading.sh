#!/usr/bin/env sh
# Emergency stop (POSIX): stop the krakenbot daemon and cancel EVERY open order on the account
# directly through Kraken's REST API (status key if configured, else the main key), then print
# what happened. It finds the daemon from any folder (the per-user registry of running daemons).
# Extra arguments are passed on, e.g. --flatten, --timeout 10, --env-file PATH, --data-dir PATH.
# Exit status: 0 the daemon is gone and no open order remains; anything else needs a look.
cd "$(dirname "$0")/.." || exit 3
PY="${PYTHON:-python3}"
if [ -x .venv/bin/python ]; then PY=.venv/bin/python; fi
echo "stop_trading: $(date -u +%Y-%m-%dT%H:%M:%SZ) stopping krakenbot and cancelling all orders"
"$PY" -m krakenbot stop --cancel-all "$@"
status=$?
case $status in
  0) echo "stop_trading: done - the daemon is stopped and no open order of krakenbot remains" ;;
  1) echo "stop_trading: WARNING - open orders may remain; check Kraken's website now" ;;
  2) echo "stop_trading: settings could not be read (see above); check Kraken's website now" ;;
  3) echo "stop_trading: WARNING - the daemon is still running; check the PID above" ;;
  4) echo "stop_trading: several daemons run and none was named: NOTHING was stopped; run again with --data-dir PATH (listed above)" ;;
  *) echo "stop_trading: unexpected exit status $status; check Kraken's website now" ;;
esac
exit $status
