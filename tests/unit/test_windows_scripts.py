"""The Windows twins, read as text (no PowerShell on this machine to run them).

stop_trading.ps1 must leave the caller's shell where it was (Push/Pop-Location in a finally,
never Set-Location), never exit 0 unless krakenbot itself said so (a missing Python is a
non-zero exit with a message), document the execution-policy invocation, and handle every
`stop` exit status. The README's Windows quickstart must be commands PowerShell 5.1 runs as
written: one per line (5.1 has no `&&`) and the PowerShell activation script.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from krakenbot.app.exitcodes import StopExit

ROOT = Path(__file__).resolve().parents[2]
PS1 = (ROOT / "stop_trading.ps1").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")
INVOCATION = "powershell -ExecutionPolicy Bypass -File .\\stop_trading.ps1"


def _code(text: str) -> str:
    """The script without its comment lines."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def test_ps1_restores_the_callers_folder_on_every_way_out() -> None:
    code = _code(PS1)
    assert "Set-Location" not in code
    assert code.count("Push-Location") == 1
    push = code.index("Push-Location")
    assert re.search(r"\}\s*finally\s*\{\s*Pop-Location\s*\}", code[push:]), "Pop in a finally"
    assert code.index("try {", push) > push  # the try follows the push at once


def test_ps1_never_exits_0_unless_krakenbot_said_so() -> None:
    code = _code(PS1)
    assert re.search(r"^\$status = 3\b", code, re.M), "a non-zero status until krakenbot answers"
    assert len(re.findall(r"^\s*\$status = \$LASTEXITCODE\s*$", code, re.M)) == 1
    assert re.findall(r"^\s*exit\b.*$", code, re.M) == ["exit $status"]  # one exit, at the end
    assert "Get-Command" in code and "-ErrorAction SilentlyContinue" in code  # Python missing
    assert '-c "import krakenbot"' in code and "if ($LASTEXITCODE -ne 0)" in code  # unusable
    assert "catch {" in code and re.search(r"catch \{[^}]*\$status = 3", code)


def test_ps1_documents_its_invocation_and_handles_every_stop_status() -> None:
    assert INVOCATION in PS1 and INVOCATION in README
    arms = {int(n) for n in re.findall(r"^\s+(\d+) \{ Write-Host", PS1, re.M)}
    assert arms == {int(s) for s in StopExit}
    sh = (ROOT / "scripts" / "stop_trading.sh").read_text(encoding="utf-8")
    assert {int(n) for n in re.findall(r"^\s+(\d+)\) echo", sh, re.M)} == {int(s) for s in StopExit}


def _windows_quickstart() -> list[str]:
    block = re.search(r"On Windows, in PowerShell.*?```powershell\n(.*?)```", README, re.S)
    assert block, "the README's Windows quickstart block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_windows_quickstart_runs_in_powershell_5_as_written() -> None:
    lines = _windows_quickstart()
    assert all("&&" not in line and "||" not in line for line in lines)  # not in 5.1
    assert lines[0] == "py -m venv .venv"
    assert ".venv\\Scripts\\Activate.ps1" in lines
    assert not any(line.startswith((". ", "source ")) for line in lines)  # POSIX activation
    assert 'python -m pip install -e ".[dev]"' in lines
    assert "python -m krakenbot run --sim --duration 60" in lines
    assert lines[-1] == "python -m pytest"


@pytest.mark.skipif(shutil.which("pwsh") is None, reason="PowerShell (pwsh) is not installed")
def test_ps1_parses_in_powershell() -> None:
    check = (
        "$e = $null; [void][System.Management.Automation.Language.Parser]::ParseFile("
        f"'{ROOT / 'stop_trading.ps1'}', [ref]$null, [ref]$e); exit $e.Count"
    )
    assert subprocess.run(["pwsh", "-NoProfile", "-Command", check], check=False).returncode == 0
