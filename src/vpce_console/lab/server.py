"""`vpce lab`: moto behind our middleware on a threaded werkzeug server, seeded, warmed, then announced."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

DEFAULT_PROPAGATION = "20:60"
DEFAULT_TRAFFIC = {"empty": 0.0, "demo": 2.0, "org": 2.0}


def add_lab_arguments(parser: argparse.ArgumentParser) -> None:
    """The options `vpce lab` and the child process share."""
    parser.add_argument("--scale", choices=("empty", "demo", "org"), default="demo", help="world size (default demo)")
    parser.add_argument(
        "--dns",
        choices=("direct", "profiles", "mixed"),
        default="direct",
        help="how spokes subscribe: PHZ associations, Route 53 Profiles, or both (default direct)",
    )
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 = a free port)")
    parser.add_argument("--host", default="127.0.0.1", help=argparse.SUPPRESS)
    parser.add_argument("--ready-file", metavar="F", help="write the ready-file (JSON) here once ready")
    parser.add_argument(
        "--propagation", metavar="MIN:MAX", default=DEFAULT_PROPAGATION, help="policy propagation window, seconds"
    )
    parser.add_argument(
        "--faults", metavar="SPEC", default="", help="SERVICE[:ACTION]=KIND[:ARG][@P],... (docs/lab.md)"
    )
    parser.add_argument("--seed", type=int, default=None, help="repeatable ids and randomness")
    parser.add_argument("--no-limits", action="store_true", help="do not enforce AWS API rate limits")
    parser.add_argument("--traffic", type=float, default=None, metavar="RATE", help="persona calls per second (0=off)")
    parser.add_argument(
        "--history",
        metavar="DURATION",
        default=None,
        help="backdated org-trail history to seed, e.g. 7d (default: 7d at demo scale, none otherwise)",
    )
    parser.add_argument("--watch-stdin", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--parent-pid", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--remove-workdir", action="store_true", help=argparse.SUPPRESS)


class Lab:
    """A running lab in this process."""

    def __init__(self, args: argparse.Namespace) -> None:
        from vpce_console.errors import UsageError
        from vpce_console.lab.faults import parse_faults
        from vpce_console.lab.propagation import parse_window

        try:
            self.window = parse_window(args.propagation or DEFAULT_PROPAGATION)
            self.fault_rules = parse_faults(args.faults or "")
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
        self.args = args
        self.seed = args.seed if args.seed is not None else int(time.time()) % 100000
        self.stopped = threading.Event()
        self.orphaned = False
        """True when the parent went away without stopping us (it cannot clean up after itself then)."""
        self.server: Any = None
        self.traffic: Any = None
        self.ready: dict[str, Any] = {}

    def start(self) -> dict[str, Any]:
        """Seed, serve, warm up and return the ready dict (the caller writes the file)."""
        os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        import random

        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        from vpce_console.lab.faults import FaultTable
        from vpce_console.lab.limits import RateLimiter
        from vpce_console.lab.middleware import LabMiddleware
        from vpce_console.lab.propagation import Propagation
        from vpce_console.lab.seeding import build_world
        from vpce_console.lab.world import HUB_ORG_PATH, LOG_GROUP, ORG_ID, READ_ROLE

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._check_port()
        from vpce_console.lab.motofix import install

        install()
        world = build_world(self.args.scale, self.seed, getattr(self.args, "dns", "direct"))
        lock = threading.RLock()
        middleware = LabMiddleware(
            DomainDispatcherApplication(create_backend_app),
            world,
            propagation=Propagation(self.window, rng=random.Random(self.seed + 1)),
            faults=FaultTable([], rng=random.Random(self.seed + 2)),  # armed after the warm-up
            limiter=None if self.args.no_limits else RateLimiter(),
            moto_lock=lock,
        )
        self.middleware = middleware
        history = self._seed_history(middleware, world)
        try:
            self.server = make_server(
                self.args.host, self.args.port, middleware, threaded=True, request_handler=MotoRequestHandler
            )
        except (OSError, SystemExit) as exc:  # werkzeug prints and exits when the port is taken
            raise self._port_error(str(exc)) from exc
        port = self.server.server_port
        endpoint_url = f"http://{self.args.host}:{port}"
        threading.Thread(target=self.server.serve_forever, name="lab-http", daemon=True).start()
        self._warm(endpoint_url, world)
        middleware.faults.set(self.fault_rules)
        self.world = world
        self.ready = {
            "endpoint_url": endpoint_url,
            "region": world.region,
            "scale": world.scale,
            "seed": self.seed,
            "pid": os.getpid(),
            "hub": {
                "account_id": world.hub_account,
                "vpc_id": world.hub_vpc_id,
                "cidr": world.hub_cidr,
                "endpoints": dict(world.endpoints),
                "zones": dict(world.zones),
                "org_id": ORG_ID,
                "org_paths": [HUB_ORG_PATH],
            },
            "operator": {"access_key_id": world.operator_key, "secret_access_key": world.operator_secret},
            "read_role_name": READ_ROLE,
            "accounts": list(world.accounts),
            "spokes": [s.ready() for s in world.spokes],
            "personas": [p.to_json() for p in world.personas],
            "cloudtrail_log_group": LOG_GROUP,
            "seeded_faults": list(world.seeded_faults),
            "dns": world.dns,
            "profiles": dict(world.profile_ids),
            "propagation_seconds": list(self.window),
            "limits": not self.args.no_limits,
            "faults": self.args.faults or "",
            "config": world.config,
            "organization": {"id": ORG_ID, "hub_org_paths": [HUB_ORG_PATH]},
            "trail": {**middleware.delivery.ready(), "history": history},
        }
        middleware.delivery.start()
        rate = self.args.traffic if self.args.traffic is not None else DEFAULT_TRAFFIC[world.scale]
        self.ready["traffic_rate"] = rate
        from vpce_console.lab.traffic import TrafficGenerator

        self.traffic = TrafficGenerator(world, endpoint_url, rate, seed=self.seed + 3)
        self.traffic.start()
        middleware.traffic = self.traffic
        return self.ready

    def _seed_history(self, middleware: Any, world: Any) -> dict[str, Any]:
        """Write the backdated trail objects before serving (streamed: memory stays flat at any size)."""
        from vpce_console.errors import UsageError
        from vpce_console.lab.history import parse_duration, seed_history

        text = self.args.history if self.args.history is not None else ("7d" if world.scale == "demo" else "0")
        try:
            seconds = parse_duration(text)
        except ValueError as exc:
            raise UsageError(f"--history: {exc}") from exc
        import tempfile

        from vpce_console.lab.child import WORKDIR_PREFIX

        ready = Path(self.args.ready_file) if self.args.ready_file else None
        if ready is not None and ready.parent.name.startswith(WORKDIR_PREFIX):
            # a child's folder: its parent removes it on every exit, even when this process is killed
            self.mirror = ready.parent / "trail-objects"
            self.mirror.mkdir(exist_ok=True)
        else:
            self.mirror = Path(tempfile.mkdtemp(prefix="vpce-trail-objects-"))
        middleware.delivery.mirror = middleware.athena.mirror = self.mirror
        started = time.monotonic()
        summary = seed_history(middleware.delivery, world, seconds, self.seed)
        summary["seconds"] = round(time.monotonic() - started, 3)
        incident = summary.get("incident")
        if incident:
            from vpce_console.lab.history import policy_change_record
            from vpce_console.lab.trail_records import iso
            from vpce_console.policy.vocab import DEFAULT_POLICY_TEXT

            # the endpoint's policy history as LookupEvents shows it: set a day before the window, the incident's
            # document at its start, the default again at its end (what `vpce replay` reads the versions from)
            begin = _epoch_of(summary["start"]) - 86400
            for when, doc in (
                (begin, DEFAULT_POLICY_TEXT),
                (_epoch_of(incident["start"]), incident["policy"]),
                (_epoch_of(incident["end"]), DEFAULT_POLICY_TEXT),
            ):
                record = policy_change_record(world, incident["endpoint_id"], doc, iso(when))
                middleware.trail.backdated(world.hub_account, record, when)
        middleware.delivery.history = summary
        return summary

    def _port_error(self, why: str) -> Exception:
        from vpce_console.errors import UsageError

        return UsageError(f"cannot listen on {self.args.host}:{self.args.port}: {why}")

    def _check_port(self) -> None:
        """Fail fast (before seeding) when a fixed port is taken."""
        if not self.args.port:
            return
        import socket

        with socket.socket() as probe:
            try:
                probe.bind((self.args.host, self.args.port))
            except OSError as exc:
                raise self._port_error(exc.strerror or str(exc)) from exc

    def _warm(self, endpoint_url: str, world: Any) -> None:
        """Load every service model and the policy engine before announcing readiness (first EC2 call ~1.5 s)."""
        import boto3
        from botocore.config import Config

        cfg = Config(retries={"total_max_attempts": 1})
        session = boto3.session.Session(
            aws_access_key_id=world.operator_key,
            aws_secret_access_key=world.operator_secret,
            region_name=world.region,
        )

        def client(name: str) -> Any:
            return session.client(name, endpoint_url=endpoint_url, config=cfg)

        client("ec2").describe_vpc_endpoints(MaxResults=5)
        client("sts").get_caller_identity()
        client("route53").list_hosted_zones(MaxItems="1")
        client("logs").describe_log_groups(limit=1)
        client("cloudtrail").lookup_events(MaxResults=1)
        client("sqs").list_queues()
        client("kms").list_keys(Limit=1)
        client("secretsmanager").list_secrets(MaxResults=1)
        client("ssm").describe_parameters(MaxResults=1)
        if world.personas:
            from vpce_console.lab.traffic import TrafficGenerator

            warm = TrafficGenerator(world, endpoint_url, 0)
            for persona in world.personas[:1]:
                for service in persona.services:
                    with contextlib.suppress(Exception):  # warm-up only: a denial still loads the models
                        warm.call_once(persona, service)

    def stop(self) -> None:
        """Stop traffic and the HTTP server."""
        self.stopped.set()
        if getattr(self, "middleware", None) is not None:
            self.middleware.closing.set()
        if self.traffic is not None:
            self.traffic.stop()
        if getattr(self, "middleware", None) is not None:
            self.middleware.delivery.stop()
        if getattr(self, "mirror", None) is not None:
            import shutil

            shutil.rmtree(self.mirror, ignore_errors=True)
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def _watch_parent(lab: Lab, parent_pid: int | None, watch_stdin: bool) -> None:
    """Stop when the parent goes away: stdin reaches EOF or our parent pid changes."""

    def stdin_watch() -> None:
        with contextlib.suppress(OSError):
            while os.read(0, 1024):  # raw fd: a buffered reader's lock aborts the interpreter at exit
                pass
        if not lab.stopped.is_set():
            lab.orphaned = True
        lab.stopped.set()

    def ppid_watch() -> None:
        while not lab.stopped.wait(0.5):
            if os.getppid() != parent_pid:
                lab.orphaned = True
                lab.stopped.set()

    if watch_stdin:
        threading.Thread(target=stdin_watch, name="lab-stdin", daemon=True).start()
    if parent_pid:
        threading.Thread(target=ppid_watch, name="lab-ppid", daemon=True).start()


def run(args: argparse.Namespace) -> int:
    """Run a lab in the foreground until SIGINT/SIGTERM (or parent death for a child); 0 on a clean stop."""
    from vpce_console.lab.ready import write_ready_file

    lab = Lab(args)

    def on_signal(signum: int, _frame: Any) -> None:
        lab.stopped.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    ready_path = Path(args.ready_file) if args.ready_file else None
    announced = False
    try:
        started = time.monotonic()
        ready = lab.start()
        ready["seconds_to_ready"] = round(time.monotonic() - started, 3)
        if ready_path is not None:
            write_ready_file(ready_path, ready)
            announced = True
        if not args.watch_stdin:
            print(
                f"vpce lab ({ready['scale']}, seed {ready['seed']}) ready at {ready['endpoint_url']}"
                + (f"; ready-file {ready_path}" if ready_path else ""),
                file=sys.stderr,
                flush=True,
            )
        _watch_parent(lab, args.parent_pid, args.watch_stdin)
        while not lab.stopped.wait(0.2):
            pass
    finally:
        lab.stop()
        if ready_path is not None:
            ready_path.unlink(missing_ok=True)
            # Once ready, the parent never reads the folder again: remove it on every way out (a signal to the
            # whole process group stops both at once, so neither may count on the other). Before that, the folder
            # holds the log the parent quotes when the start fails, and the parent removes it.
            if args.remove_workdir and (announced or lab.orphaned):
                _remove_workdir(ready_path.parent)
        for s, handler in previous.items():
            signal.signal(s, handler)
    return 0


def _remove_workdir(folder: Path) -> None:
    """Remove the child's temporary folder, only ever one `start_lab_child` made (name checked)."""
    import shutil

    from vpce_console.lab.child import WORKDIR_PREFIX

    if folder.name.startswith(WORKDIR_PREFIX):
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the child process (`python -m vpce_console.lab.server`)."""
    parser = argparse.ArgumentParser(prog="vpce-lab")
    add_lab_arguments(parser)
    args = parser.parse_args(argv)
    from vpce_console.errors import VpceError

    try:
        code = run(args)
    except VpceError as exc:
        print(f"vpce lab: {exc}", file=sys.stderr)
        code = 2
    exit_now(code)
    return code


def _epoch_of(text: str) -> float:
    """An ISO time (Z suffix) as epoch seconds."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def exit_now(code: int) -> None:
    """Leave without tearing moto's backends down object by object (seconds at org scale); state is throwaway."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    raise SystemExit(main())
