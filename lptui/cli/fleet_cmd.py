"""`lptui fleet --prometheus URL [hosts|patches|cve ID|check]`: every host that Prometheus scrapes lptui
on, from Prometheus's HTTP API; with no question, the fleet console. Read-only: nothing here can act
on a host."""

from __future__ import annotations

import argparse
import os

from lptui.cli import out
from lptui.core import exits
from lptui.core.exits import LptuiError, UsageError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (start-up cost)
if TYPE_CHECKING:
    from lptui.cli.main import Commands


DEFAULT_WARN = 60.0
DEFAULT_CRIT = 300.0


def _secret(path: str | None, env: str, what: str) -> str | None:
    """A secret from a file (never from the command line, which `ps` shows) or the environment."""
    if path:
        try:
            with open(path, encoding="utf-8") as f:
                return f.read(4096).strip()
        except OSError as exc:
            from lptui.fleet.prometheus import FleetError

            raise FleetError(f"{what} {path}: {exc.strerror}") from None
    return os.environ.get(env) or None


def open_prometheus(args: argparse.Namespace):
    from lptui.fleet.prometheus import Auth, FleetError, Prometheus

    url = args.prometheus or os.environ.get("PROMETHEUS_URL")
    if not url:
        raise FleetError("fleet needs --prometheus URL (or PROMETHEUS_URL)")
    auth = Auth(
        username=args.prometheus_username or os.environ.get("PROMETHEUS_USERNAME"),
        password=_secret(args.prometheus_password_file, "PROMETHEUS_PASSWORD", "--prometheus-password-file"),
        bearer_token=_secret(
            args.prometheus_bearer_token_file, "PROMETHEUS_BEARER_TOKEN", "--prometheus-bearer-token-file"
        ),
        ca_file=args.prometheus_ca_file,
        insecure=args.prometheus_insecure,
    )
    return Prometheus(url, auth, timeout=args.prometheus_timeout)


def cmd_fleet(args: argparse.Namespace) -> int:
    from lptui.fleet.prometheus import FleetError
    from lptui.fleet.state import CVE_ID, read_fleet

    question = args.fleet_command
    if question == "cve" and not CVE_ID.match(args.cve):
        raise LptuiError(f"{args.cve!r} is not a CVE id (CVE-YYYY-NNNN)", code=exits.USAGE)
    if question == "patches":
        from lptui.fleet.history import parse_since

        try:
            args.since_seconds = parse_since(args.since) if args.since else None
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    if question == "check" and (args.warn < 0 or args.crit < 0 or args.warn > args.crit):
        return _unknown(args, "--warn must be at most --crit, both 0 or more")
    if question is None and not out.is_terminal():  # escape sequences into a file help nobody
        why = "the fleet console needs a terminal; in a script ask a question: hosts, patches, cve ID, check"
        raise LptuiError(why, code=exits.USAGE)
    if not (args.prometheus or os.environ.get("PROMETHEUS_URL")):
        if question == "check":  # a plugin says UNKNOWN for any problem of its own, usage included
            return _unknown(args, "fleet needs --prometheus URL (or PROMETHEUS_URL)")
        raise UsageError("fleet needs --prometheus URL (or PROMETHEUS_URL)")
    try:
        prom = open_prometheus(args)
        if question is None:
            from lptui.tui.fleet.app import run_fleet_console

            return run_fleet_console(
                prom, job=args.job, host_label=args.host_label, stale=args.stale, interval=args.interval
            )
        fleet = read_fleet(prom, job=args.job, host_label=args.host_label, stale=args.stale)
    except FleetError as exc:
        if question == "check":
            return _unknown(args, str(exc))
        raise
    if not fleet.hosts and question != "check":
        raise LptuiError(
            f"Prometheus at {prom.base} has no lptui series for job {args.job!r} "
            "(is lptui metrics scraped? see README Fleet)"
        )
    return {"hosts": _hosts, "patches": _patches, "cve": _cve, "check": _check}[question](fleet, args)


def _hosts(fleet, args) -> int:
    from lptui.fleet.answers import host_json

    if args.json:
        out.json_out({"hosts": [host_json(h) for h in fleet.hosts]})
        return exits.OK
    from lptui.cli.fleet_render import hosts_table

    out.console().print(hosts_table(fleet))
    return exits.OK


def _patches(fleet, args) -> int:
    from lptui.fleet.answers import rollout_json, rollouts
    from lptui.fleet.history import history_json, read_history

    found = rollouts(fleet)
    since = args.since_seconds
    history = read_history(
        open_prometheus(args), job=args.job, host_label=args.host_label, since=since or 3600.0, now=fleet.at
    )
    if args.json:
        rows = [rollout_json(r) | history_json(history.get(r.patch), since) for r in found]
        out.json_out({"patches": rows, "since_seconds": since})
        return exits.OK
    from lptui.cli.fleet_render import rollout_table

    out.console().print(rollout_table(found, history, since))
    return exits.OK


def _cve(fleet, args) -> int:
    from lptui.fleet.answers import cve_json, cve_verdicts, exposed_first

    verdicts = exposed_first(cve_verdicts(fleet, args.cve))
    code = cve_exit(verdicts)
    if args.json:
        out.json_out({"cve": args.cve.upper(), "exit": code, "hosts": [cve_json(v) for v in verdicts]})
    else:
        from lptui.cli.fleet_render import cve_table

        out.console().print(cve_table(args.cve.upper(), verdicts))
    return code


def cve_exit(verdicts) -> int:
    """As `status --cve` exits, for the fleet as a whole: 0 every host fixed, 4 a host not fixed, 5 none
    unfixed but a host's patch still in transition, 6 none of those but a host lptui cannot tell about."""
    seen = {v.verdict for v in verdicts}
    from lptui.fleet.answers import CveState

    for verdict, code in (
        (CveState.NOT_FIXED, exits.NOT_PATCHED),
        (CveState.IN_TRANSITION, exits.NOT_YET),
        (CveState.UNKNOWN, exits.CANNOT_TELL),
    ):
        if verdict in seen:
            return code
    return exits.OK


def _unknown(args, why: str) -> int:
    """`fleet check`'s UNKNOWN (3): its plugin line, or with --json the same JSON as every other state."""
    if getattr(args, "json", False):
        out.json_out({"status": "UNKNOWN", "code": exits.PLUGIN_UNKNOWN, "summary": why})
    else:
        out.plugin_line(f"FLEET UNKNOWN - {why}")
    return exits.PLUGIN_UNKNOWN


def _check(fleet, args) -> int:
    from lptui.fleet.answers import NAMES, judge

    verdict = judge(fleet, warn=args.warn, crit=args.crit)
    if not fleet.hosts:
        return _unknown(args, f"no lptui series in Prometheus for job {args.job!r}")
    if args.json:
        out.json_out({"status": NAMES[verdict.code], "code": verdict.code, "summary": verdict.summary})
    else:
        out.plugin_line(f"FLEET {NAMES[verdict.code]} - {verdict.summary}")
    return verdict.code


def add_parsers(cli: Commands) -> None:
    with cli.command(
        "fleet",
        cmd_fleet,
        source=False,
        help="every host Prometheus scrapes lptui on: stuck hosts, patch rollout, CVE exposure",
        description="Reads the series every host's `lptui metrics` exports from Prometheus's HTTP API "
        "(instant queries, one round per refresh). With no question: the fleet console. Read-only.",
    ) as p:
        p.add_argument("--prometheus", metavar="URL", help="Prometheus's base URL (default: $PROMETHEUS_URL)")
        p.add_argument("--prometheus-username", metavar="USER", help="basic auth user ($PROMETHEUS_USERNAME)")
        p.add_argument(
            "--prometheus-password-file", metavar="FILE", help="basic auth password ($PROMETHEUS_PASSWORD)"
        )
        p.add_argument(
            "--prometheus-bearer-token-file", metavar="FILE", help="bearer token ($PROMETHEUS_BEARER_TOKEN)"
        )
        p.add_argument("--prometheus-ca-file", metavar="FILE", help="CA certificates for an https URL")
        p.add_argument(
            "--prometheus-insecure", action="store_true", help="do not verify the server's certificate"
        )
        p.add_argument(
            "--prometheus-timeout",
            metavar="S",
            type=float,
            default=10.0,
            help="each query's deadline from connect to its last byte (default 10); "
            "a round gets three times it",
        )
        p.add_argument("--job", default="lptui", help="the scrape job (a regex) whose targets are the hosts")
        p.add_argument(
            "--host-label", default="instance", help="the label that names a host (default instance)"
        )
        p.add_argument(
            "--stale",
            metavar="S",
            type=float,
            default=300.0,
            help="a host whose last poll is older is shown stale (default 300)",
        )
        p.add_argument("--interval", metavar="S", type=float, default=5.0, help="console refresh (default 5)")
        p.set_defaults(fleet_command=None, json=False)
        _add_questions(p.add_subparsers(dest="fleet_command", metavar="QUESTION"))


def _add_questions(questions) -> None:
    """The fleet's questions: with none, the console."""
    q = questions.add_parser("hosts", help="every host, worst first")
    q.add_argument("--json", action="store_true", help="print JSON")
    q = questions.add_parser("patches", help="each patch's rollout, and its transitions' durations")
    q.add_argument(
        "--since",
        metavar="WINDOW",
        help="its rollout over the window (90m, 6h, 2d): hosts live step by step, when each went live",
    )
    q.add_argument("--json", action="store_true", help="print JSON")
    q = questions.add_parser("cve", help="every host's verdict on one CVE")
    q.add_argument("cve", metavar="CVE-ID")
    q.add_argument("--json", action="store_true", help="print JSON")
    q = questions.add_parser(
        "check", help="monitoring plugin over the fleet: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN"
    )
    q.add_argument(
        "--warn", metavar="S", type=float, default=DEFAULT_WARN, help="WARNING past S seconds stuck"
    )
    q.add_argument(
        "--crit", metavar="S", type=float, default=DEFAULT_CRIT, help="CRITICAL past S seconds stuck"
    )
    q.add_argument("--json", action="store_true", help="print JSON")
