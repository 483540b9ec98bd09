# Emergency stop (Windows PowerShell): stop the krakenbot daemon through its authenticated
# local stop request and cancel EVERY open order on the account directly through Kraken's
# REST API (status key if configured, else the main key), then print what happened.
# Usage: .\stop_trading.ps1 [-Flatten] [-Timeout 30] [-EnvFile path]
# Exit status: 0 the daemon is gone and no open order remains; anything else needs a look.
param(
    [switch]$Flatten,
    [int]$Timeout = 30,
    [string]$EnvFile = ""
)
Set-Location -Path $PSScriptRoot
$python = "python"
if (Test-Path ".venv\Scripts\python.exe") { $python = ".venv\Scripts\python.exe" }
$arguments = @("-m", "krakenbot", "stop", "--cancel-all", "--timeout", "$Timeout")
if ($Flatten) { $arguments += "--flatten" }
if ($EnvFile -ne "") { $arguments += @("--env-file", $EnvFile) }
$stamp = (Get-Date).ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ")
Write-Host "stop_trading: $stamp stopping krakenbot and cancelling all orders"
& $python @arguments
$status = $LASTEXITCODE
switch ($status) {
    0 { Write-Host "stop_trading: done - the daemon is stopped and no open order of krakenbot remains" }
    1 { Write-Host "stop_trading: WARNING - open orders may remain; check Kraken's website now" }
    2 { Write-Host "stop_trading: settings could not be read (see above); check Kraken's website now" }
    3 { Write-Host "stop_trading: WARNING - the daemon is still running; check the PID above" }
    default { Write-Host "stop_trading: unexpected exit status $status; check Kraken's website now" }
}
exit $status
