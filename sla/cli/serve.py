"""``sla serve``: the SLA service over HTTP (events in, ticket states and due
cycles out, alerts to webhooks), on SQLite or PostgreSQL.  Needs the
``serve`` extra: ``pip install 'sla[serve]'``."""

from __future__ import annotations

import argparse
import os
import signal
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sla.cli.common import EXIT_OK, UsageError, policies_option
from sla.errors import SlaError

if TYPE_CHECKING:
    from sla.service.settings import Settings

LOG_FORMATS = ("text", "json")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "serve",
        help="run the SLA service: events over HTTP, ticket clocks kept, alerts to webhooks",
        description="Run the SLA service until SIGTERM or Ctrl-C. The token and the webhook secret "
        "may also come from the environment (SLA_SERVE_TOKEN, SLA_WEBHOOK_SECRET), which keeps them "
        "out of the process list.",
    )
    p.add_argument("--policies", required=True, metavar="FILE", help="policy file (YAML, JSON or TOML)")
    p.add_argument(
        "--db",
        default="sqlite:///sla-state.db",
        metavar="URL",
        help="sqlite:///PATH (one process; default sqlite:///sla-state.db) or postgresql://... "
        "(several processes share the work)",
    )
    p.add_argument(
        "--host", default="127.0.0.1", metavar="H", help="address to listen on (default 127.0.0.1)"
    )
    p.add_argument("--port", type=int, default=8080, metavar="P", help="port to listen on (default 8080)")
    p.add_argument("--token", metavar="T", help="require 'Authorization: Bearer T' on every /v1 request")
    p.add_argument(
        "--webhook",
        nargs="+",
        action="extend",
        default=[],
        metavar="URL",
        help="http(s) URL that receives every alert (several URLs may follow)",
    )
    p.add_argument("--webhook-secret", metavar="S", help="sign alerts: X-SLA-Signature: sha256=<HMAC>")
    p.add_argument("--log-format", choices=LOG_FORMATS, default="text", help="log lines as text or json")
    tuning = p.add_argument_group("tuning (the defaults suit production; tests shorten them)")
    tuning.add_argument(
        "--max-body",
        type=int,
        default=16 * 1024 * 1024,
        metavar="BYTES",
        help="largest POST body (413 above)",
    )
    tuning.add_argument(
        "--max-events",
        type=int,
        default=200_000,
        metavar="N",
        help="most events in one POST (413 above): bounds a request's memory, as --max-body its bytes",
    )
    tuning.add_argument("--max-depth", type=int, default=32, metavar="N", help="deepest nesting of an event")
    tuning.add_argument("--poll", default="1s", metavar="DURATION", help="how often to look for due alerts")
    tuning.add_argument(
        "--lease", default="20s", metavar="DURATION", help="how long a claimed alert is this process's"
    )
    tuning.add_argument("--retry-initial", default="5s", metavar="DURATION", help="first retry after")
    tuning.add_argument("--retry-max", default="5m", metavar="DURATION", help="longest wait between retries")
    tuning.add_argument("--retry-for", default="24h", metavar="DURATION", help="retry for at least this long")
    p.set_defaults(func=run)


def _duration(option: str, value: str, low_us: int, high_us: int) -> int:
    from sla.policy.duration import parse_duration_us

    try:
        us = parse_duration_us(value)
    except SlaError as exc:
        raise UsageError(f"{option}: {exc}") from None
    if not low_us <= us <= high_us:
        raise UsageError(
            f"{option}: {value} is out of range; expected between {low_us / 1e6:g}s and {high_us / 1e6:g}s"
        )
    return us


def _webhook(url: str) -> str:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"--webhook: {url.split('?', 1)[0]!r} is not an http(s) URL; expected like https://host/path"
        )
    # The client that posts the alerts parses it too (its host as an
    # internationalised name): what it would refuse is refused here, at
    # start, rather than failing every delivery.
    import httpx

    try:
        httpx.URL(url).host  # noqa: B018 - raises on a host that is not a valid name
        httpx.Request("POST", url)
    except Exception as exc:
        raise UsageError(
            f"--webhook: {url.split('?', 1)[0]!r} is not a usable URL ({type(exc).__name__}: "
            f"{str(exc)[:100]}); expected like https://host/path"
        ) from None
    return url


def settings_from(args: argparse.Namespace) -> Settings:
    """The service's settings from the command line (checked: usage errors
    name the option)."""
    from sla.service.settings import Settings

    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port: {args.port} is not a port; expected 0 to 65535")
    if args.max_body < 1024:
        raise UsageError(f"--max-body: {args.max_body} is too small; expected at least 1024 bytes")
    if args.max_events < 1:
        raise UsageError(f"--max-events: {args.max_events} is too small; expected at least 1")
    if not 2 <= args.max_depth <= 1000:
        raise UsageError(f"--max-depth: {args.max_depth} is out of range; expected 2 to 1000")
    token = args.token or os.environ.get("SLA_SERVE_TOKEN") or None
    secret = args.webhook_secret or os.environ.get("SLA_WEBHOOK_SECRET") or None
    webhooks = tuple(dict.fromkeys(_webhook(url) for url in args.webhook))
    lease = _duration("--lease", args.lease, 2_000_000, 30_000_000)
    retry_initial = _duration("--retry-initial", args.retry_initial, 10_000, 10_000_000)
    retry_max = _duration("--retry-max", args.retry_max, retry_initial, 300_000_000)
    return Settings(
        policies=policies_option(args.policies),
        db_url=args.db,
        token=token,
        webhooks=webhooks,
        webhook_secret=secret,
        max_body_bytes=args.max_body,
        max_events=args.max_events,
        max_depth=args.max_depth,
        poll_us=_duration("--poll", args.poll, 10_000, 10_000_000),
        lease_us=lease,
        retry_initial_us=retry_initial,
        retry_max_us=retry_max,
        retry_for_us=_duration("--retry-for", args.retry_for, 0, 366 * 86_400_000_000),
        # An attempt ends well inside its lease: no other process takes over a live delivery.
        delivery_timeout_s=min(10.0, lease / 2e6),
    )


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from sla.service import logs
        from sla.service.app import create_app
        from sla.service.runtime import Service
    except ImportError as exc:
        raise UsageError(
            f"sla serve needs the serve extra ({exc.name} is missing): pip install 'sla[serve]'"
        ) from None
    settings = settings_from(args)
    logs.configure(args.log_format)
    service = Service(settings)
    service.open()  # bad --db, a second process on SQLite, a newer schema: a usage error, before listening
    try:
        config = uvicorn.Config(
            create_app(settings, service),
            host=args.host,
            port=args.port,
            log_config=None,
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=30,
            lifespan="on",
        )
        server = uvicorn.Server(config)
        # uvicorn handles SIGTERM and SIGINT while it runs (requests under way
        # finish, the scheduler stops claiming) and raises them again once
        # stopped; a stop asked for is a normal end here, not an error.
        signal.signal(signal.SIGTERM, lambda signum, frame: None)
        signal.signal(signal.SIGINT, lambda signum, frame: None)
        server.run()
    finally:
        service.close()
    return EXIT_OK
