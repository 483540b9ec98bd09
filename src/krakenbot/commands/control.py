"""`krakenbot pause|resume|halt|cancel-all|flatten` and `krakenbot dashboard`: a running
daemon's controls from the command line, the twins of the dashboard's buttons.

Owns: the commands' arguments and output. Finding the daemon is app/discover.py (as for
`status` and `stop`: from any folder, `--sim` and `--data-dir` only filter, several are never
guessed between); asking it is app/control_client.py (the daemon's own token, its local
endpoint); what each action does is app/controls.py, in the daemon — the same function the
page's button calls. `dashboard` prints the dashboard's URL and a fresh one-time login link
(`--open`: opens it in the browser).
Exit status (app.exitcodes.ControlExit): 0 done; 1 the daemon did not do it (stopping,
cancel-all incomplete, refused); 3 no daemon runs or it does not answer; 4 several run and
none was named.
"""

from __future__ import annotations

import argparse
import json
import sys
import webbrowser

from krakenbot.app.control_client import Answer, control, login_link
from krakenbot.app.controls import Action
from krakenbot.app.exitcodes import ControlExit
from krakenbot.commands._output import emit
from krakenbot.commands.status import add_target_arguments, locate_for

_HELP = {
    Action.PAUSE: "pause new entries: trading state REDUCING (exits and protective stops go on)",
    Action.RESUME: "resume trading: trading state ACTIVE",
    Action.HALT: "halt: trading state HALTED (only cancels and protective stops go)",
    Action.CANCEL_ALL: "HALTED and cancel every order of krakenbot, protective stops too "
    "(never anyone else's); the daemon keeps running",
    Action.FLATTEN: "REDUCING, cancel resting entries and sell every position now (IOC at "
    "the bid, through the risk gate); the daemon keeps running",
}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for action, text in _HELP.items():
        p = subparsers.add_parser(action.value, help=text)
        _common(p)
        p.set_defaults(handler=run, action=action.value)
    p = subparsers.add_parser(
        "dashboard", help="print the running daemon's dashboard URL and a one-time login link"
    )
    p.add_argument("--open", action="store_true", help="open the link in the web browser")
    _common(p)
    p.set_defaults(handler=run, action="dashboard")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="the daemon's answer as one JSON object")
    p.add_argument(
        "--timeout", type=float, default=20.0, metavar="S", help="how long to wait for the answer"
    )
    add_target_arguments(p)


async def run(args: argparse.Namespace) -> int:
    name = args.action
    located = locate_for(args)
    choice = located.choice
    refusal = choice.refusal(name)
    if refusal is not None:
        emit(f"krakenbot {name}: nothing done: {refusal}", stream=sys.stderr)
        return int(ControlExit.NOT_CHOSEN)
    target = choice.chosen
    if target is None:
        emit(
            f"krakenbot {name}: no krakenbot daemon is running "
            f"(looked in {located.registry} and the lock files)",
            stream=sys.stderr,
        )
        return int(ControlExit.NOT_RUNNING)
    if name == "dashboard":
        answer = await login_link(target, timeout_s=args.timeout)
    else:
        answer = await control(target, name, timeout_s=args.timeout)
    return _report(args, name, answer)


def _report(args: argparse.Namespace, name: str, answer: Answer) -> int:
    if answer.status == 0:
        emit(f"krakenbot {name}: {answer.error}", stream=sys.stderr)
        return int(ControlExit.NOT_RUNNING)
    if args.json:
        emit(json.dumps(answer.doc, sort_keys=True))
    if answer.status != 200:
        why = answer.doc.get("error") or "; ".join(answer.doc.get("lines", [])) or answer.status
        emit(f"krakenbot {name}: not done: {why}", stream=sys.stderr)
        return int(ControlExit.REFUSED)
    if name == "dashboard":
        url = str(answer.doc.get("url"))
        if not args.json:
            emit(f"dashboard: {answer.doc.get('dashboard')}\nlog in (works once): {url}")
        if args.open:
            webbrowser.open(url)
    elif not args.json:
        emit("\n".join(f"krakenbot {name}: {line}" for line in answer.doc.get("lines", [])))
    return int(ControlExit.OK)
