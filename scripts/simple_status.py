#!/usr/bin/env python3
"""simple_status.py [--json] [--exchange] [--env-file PATH]: the seed operators' health check.

The same check as `python -m krakenbot status` (krakenbot.app.status_check), for cron jobs and
monitoring: prints the status and exits 0 healthy, 1 degraded, 2 not running, 3 cannot tell.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from krakenbot.commands import status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="simple_status.py", description=__doc__)
    status.add_status_arguments(parser)
    args = parser.parse_args(argv)
    return asyncio.run(status.run(args))


if __name__ == "__main__":
    sys.exit(main())
