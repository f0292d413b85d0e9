"""`leadbot worker`: deliver the outbox to Slack and run the scheduled jobs (SLA ladder, digest)."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from datetime import timedelta
from types import FrameType

from leadqual.bootstrap import bootstrap
from leadqual.errors import ConfigError
from leadqual.services import delivery
from leadqual.settings import Settings

log = logging.getLogger("leadbot.worker")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    worker = sub.add_parser("worker", help="deliver queued Slack messages and run the SLA ladder and digest")
    worker.add_argument(
        "--once",
        action="store_true",
        help="run the SLA ladder once, deliver everything pending (waiting out retries due "
        "within 5 minutes), then exit",
    )
    worker.add_argument(
        "--rate",
        type=float,
        default=1.0,
        metavar="N",
        help="messages per second per channel (default 1, Slack's limit)",
    )
    worker.add_argument(
        "--lease",
        type=float,
        default=delivery.DEFAULT_LEASE.total_seconds(),
        metavar="SECONDS",
        help="how long a worker holds a row before another may take it over (default 120)",
    )
    worker.add_argument(
        "--max-attempts",
        type=int,
        default=None,
        metavar="N",
        help="failed attempts before a row goes dead (default: no cap; transient failures "
        "are retried, backing off to every 5 minutes, until a message is 24 hours old)",
    )
    worker.add_argument(
        "--metrics-port",
        type=int,
        default=None,
        metavar="PORT",
        help="serve Prometheus metrics (sends, 429s, retries, digest runs, the outbox) on this port at /metrics",
    )
    worker.add_argument(
        "--hubspot-rate",
        type=float,
        default=10.0,
        metavar="N",
        help="HubSpot write-backs per second (default 10; HubSpot's private apps allow more)",
    )
    worker.add_argument(
        "--salesforce-rate",
        type=float,
        default=5.0,
        metavar="N",
        help="Salesforce write-backs per second (default 5)",
    )
    worker.add_argument("--metrics-host", default="0.0.0.0", help="the address --metrics-port listens on")
    worker.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if min(args.rate, args.lease, args.hubspot_rate, args.salesforce_rate) <= 0 or (
        args.max_attempts is not None and args.max_attempts < 1
    ):
        raise ConfigError("--rate, --lease and the CRM rates must be positive and --max-attempts at least 1")
    ctx = bootstrap(settings)
    if settings.slack_bot_token is None:
        raise ConfigError("SLACK_BOT_TOKEN is not set: the worker cannot reach Slack")

    from bot.crm.writeback import writers_from
    from bot.slack.client import make_client
    from bot.worker import WorkerOptions, run_worker

    client = make_client(settings, retries=False)
    if args.metrics_port is not None:
        from prometheus_client import start_http_server

        from bot.metrics import registry

        start_http_server(args.metrics_port, addr=args.metrics_host, registry=registry(ctx))
    options = WorkerOptions(
        rate_per_channel=args.rate,
        lease=timedelta(seconds=args.lease),
        max_attempts=args.max_attempts,
        crm_rates={"hubspot": args.hubspot_rate, "salesforce": args.salesforce_rate},
    )
    crm = writers_from(settings)  # write-backs to each CRM whose token is set; others' rows wait
    if crm:
        log.info("writing back to %s", ", ".join(sorted(crm)))
    stop = threading.Event()
    _stop_on_signals(stop)
    stats = run_worker(ctx, client, stop=stop, once=args.once, options=options, crm=crm)
    left = delivery.counts(ctx)
    print(
        f"delivered {stats.sent + stats.found}, retried {stats.retried}, rate limited {stats.rate_limited}, "
        f"dead {stats.dead}; outbox now {left['pending']} pending, {left['dead']} dead"
    )
    return 0


def _stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM/SIGINT: finish the send in flight, hand back leased rows, exit. A second signal exits at once."""

    def handle(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        log.info("%s: finishing the send in flight, then stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
