"""`leadbot serve`: the HTTP server (intake, health, and Slack's endpoint)."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from bot.http import create_http_app
from leadqual.bootstrap import bootstrap
from leadqual.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("serve", help="run the HTTP server (POST /leads, /healthz, /slack/events)")
    serve.add_argument("--host", default="0.0.0.0")
    serve.set_defaults(run=run_server)


def run_server(args: argparse.Namespace, settings: Settings) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx = bootstrap(settings)
    app = create_http_app(ctx, settings)
    uvicorn.run(app, host=args.host, port=settings.port, log_level="info", proxy_headers=True)
    return 0
