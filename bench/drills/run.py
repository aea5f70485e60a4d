"""The drill CLI: ``python -m bench.drills <drill> [options]`` (or ``bench/drills/run.py``).

    .venv/bin/python -m bench.drills --list
    .venv/bin/python -m bench.drills burst                  # full size, PostgreSQL
    .venv/bin/python -m bench.drills burst --quick --db sqlite
    .venv/bin/python -m bench.drills outage --outage-seconds 120
    .venv/bin/python -m bench.drills all --quick            # every drill, one after the other

Exit status 0 when every drill run passed. Figures are appended to bench/RESULTS.md unless
``--no-record``; logs of the app's processes stay in the printed work directory.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import shlex
import sys
import time
import traceback
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.drills.report import DrillResult, print_result, record  # noqa: E402
from bench.drills.stack import REPO, Stack, StackOptions  # noqa: E402

log = logging.getLogger("bench.drills")

DRILLS = {
    "burst": "5,000 signed webhooks in 60 s (20% duplicates, 5% bad signatures) during a code sweep",
    "crash": "SIGKILL the qcluster while it processes 1,000 events and a sweep, then restart it",
    "outage": "Bling answers 5xx for a while, then recovers",
    "rate": "another client uses 2 of Bling's 3 requests/s while our sweep runs",
    "tokens": "the refresh token is revoked mid-run",
    "badinput": "200 malformed or hostile webhook bodies",
    "security": "admin login, unsigned webhooks, tokens in logs, /health/ and admin pages",
    "alerts": "the refresh token is revoked while the cluster runs: the reconnect e-mail",
    "pause": "switch to paused during a live code sweep over 2,000 products",
    "killbatch": "SIGKILL the qcluster during a 300-product deactivation batch, then recovery",
}


class DrillAborted(Exception):
    """The drill cannot go on (a missing feature, a stack that did not start)."""


def _module(name: str):  # noqa: ANN202 - a drill module
    return importlib.import_module(f"bench.drills.{name}")


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--quick", action="store_true", help="small counts, short durations")
    common.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    common.add_argument("--app-dir", type=Path, default=REPO, help="checkout to run the app from")
    common.add_argument("--keep", action="store_true", help="keep the database after the run")
    common.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    common.add_argument("-v", "--verbose", action="store_true")
    parser = argparse.ArgumentParser(
        prog="python -m bench.drills", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--list", action="store_true", help="list the drills")
    sub = parser.add_subparsers(dest="drill")
    for name, text in DRILLS.items():
        p = sub.add_parser(name, parents=[common], help=text, description=text)
        _module(name).add_arguments(p)
    sub.add_parser("all", parents=[common], help="every drill in turn")
    return parser


def run_drill(name: str, args: argparse.Namespace, command: str = "") -> DrillResult:
    """Prepare a stack, run one drill on it, tear it down; print and record the result."""
    module = _module(name)
    opts = StackOptions(db=args.db, app_dir=args.app_dir, keep=args.keep)
    module.configure(opts, args)
    result = DrillResult(drill=name, command=command or f"python -m bench.drills {name}")
    stack = Stack(name, opts)
    started = time.monotonic()
    try:
        stack.prepare()
        module.run(stack, args, result)
    except Exception as exc:
        result.aborted = (
            f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"
        )
        (stack.workdir / "driver-error.txt").write_text(traceback.format_exc())
        log.error("drill %s aborted: %s", name, traceback.format_exc())
    finally:
        try:
            stack.down()
        except Exception:
            log.exception("teardown of %s failed", name)
    result.seconds = time.monotonic() - started
    result.notes.append(f"logs: {stack.workdir}")
    print_result(result)
    if not args.no_record:
        record(result, db=args.db)
    return result


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if getattr(args, "verbose", False) else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("tests.fakebling").setLevel(logging.WARNING)
    if args.list or not args.drill:
        for name, text in DRILLS.items():
            print(f"{name:10} {text}")
        sys.exit(0)
    names = list(DRILLS) if args.drill == "all" else [args.drill]
    results = []
    for name in names:
        if args.drill == "all":
            # Each drill's own defaults for its specific options.
            args = build_parser().parse_args([name, *argv[1:]])
        command = "python -m bench.drills " + shlex.join([name, *argv[1:]])
        results.append(run_drill(name, args, command))
    if len(results) > 1:
        print()
        for res in results:
            print(res.verdict)
    sys.exit(0 if all(r.passed for r in results) else 1)


if __name__ == "__main__":
    main()
