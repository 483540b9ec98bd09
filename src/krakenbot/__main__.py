"""`python -m krakenbot` entry point."""

import sys

from krakenbot.cli import main

if __name__ == "__main__":
    sys.exit(main())
