# Emergency stop (Windows PowerShell 5.1 or PowerShell 7): stop the krakenbot daemon through its
# authenticated local stop request and cancel EVERY open order on the account directly through
# Kraken's REST API (status key if configured, else the main key), then print what happened.
# It finds the daemon from any folder (the per-user registry of running daemons).
#
# Usage (Windows refuses to run downloaded scripts under its default execution policy, so
# name the policy for this one run; nothing is changed for other scripts):
#   powershell -ExecutionPolicy Bypass -File .\stop_trading.ps1 [-Flatten] [-Timeout 30] [-EnvFile path] [-DataDir path]
#
# Exit status: 0 the daemon is gone and no open order remains; anything else needs a look
# (3 also when no Python able to run krakenbot is found: then NOTHING was stopped).
param(
    [switch]$Flatten,
    [int]$Timeout = 30,
    [string]$EnvFile = "",
    [string]$DataDir = ""
)

$stamp = (Get-Date).ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ")
Write-Host "stop_trading: $stamp stopping krakenbot and cancelling all orders"

# Paths given relative to the caller's folder, resolved before we move to the project's.
$arguments = @("-m", "krakenbot", "stop", "--cancel-all", "--timeout", "$Timeout")
if ($Flatten) { $arguments += "--flatten" }
if ($EnvFile -ne "") {
    $arguments += @("--env-file", $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($EnvFile))
}
if ($DataDir -ne "") {
    $arguments += @("--data-dir", $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($DataDir))
}

$status = 3  # until krakenbot itself has answered, nothing is known to be stopped
# Push/Pop, not Set-Location: the caller's shell gets its own folder back, whatever happens.
Push-Location -LiteralPath $PSScriptRoot
try {
    # The project's venv first (as scripts/stop_trading.sh does), then the py launcher, then python.
    $python = $null
    $prefix = @()
    $venv = Join-Path $PSScriptRoot ".venv\Scripts\python.exe"
    if (Test-Path -LiteralPath $venv) {
        $python = $venv
    } elseif (Get-Command "py" -ErrorAction SilentlyContinue) {
        $python = "py"
        $prefix = @("-3")
    } elseif (Get-Command "python" -ErrorAction SilentlyContinue) {
        $python = "python"
    }
    if ($null -eq $python) {
        Write-Host "stop_trading: ERROR - no Python found (no $venv, no py or python on PATH): NOTHING was stopped"
    } else {
        # Windows' "python" store alias and a Python without krakenbot both fail here.
        & $python @prefix -c "import krakenbot" 2>$null
        if ($LASTEXITCODE -ne 0) {
            Write-Host "stop_trading: ERROR - $python cannot run krakenbot (exit $LASTEXITCODE): NOTHING was stopped"
        } else {
            & $python @prefix @arguments
            $status = $LASTEXITCODE
        }
    }
} catch {
    Write-Host "stop_trading: ERROR - $($_.Exception.Message): NOTHING may have been stopped"
    $status = 3
} finally {
    Pop-Location
}

switch ($status) {
    0 { Write-Host "stop_trading: done - the daemon is stopped and no open order of krakenbot remains" }
    1 { Write-Host "stop_trading: WARNING - open orders may remain; check Kraken's website now" }
    2 { Write-Host "stop_trading: settings could not be read (see above); check Kraken's website now" }
    3 { Write-Host "stop_trading: WARNING - the daemon may still be running; check the PID above and Kraken's website now" }
    4 { Write-Host "stop_trading: several daemons run and none was named: NOTHING was stopped; run again with -DataDir PATH (listed above)" }
    default { Write-Host "stop_trading: unexpected exit status $status; check Kraken's website now" }
}
exit $status
