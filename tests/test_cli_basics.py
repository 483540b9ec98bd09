import subprocess
import sys

from krakenbot import __version__
from krakenbot.cli import main


def test_version_via_module() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "krakenbot", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"krakenbot {__version__}"


def test_no_command_is_usage_error() -> None:
    assert main([]) == 2
