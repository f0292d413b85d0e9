"""Run Leadbot as an operator does: `leadbot serve` and `leadbot worker` subprocesses, for fault and scale tests.

Each process gets a clean environment (nothing from the developer's shell or a `.env`,
since it runs in its own directory): the database, the Slack stand-in as SLACK_API_URL, the
test secrets of `tests.conftest.make_settings`, and a free PORT. Output goes to a log file
per process, which failures print. Processes are stopped with SIGTERM (graceful) or SIGKILL
(a crash), and the `procs` fixture's finaliser stops whatever is still running, by pid.

    from tests.procs import procs_fixture, standin_fixture  # noqa: F401  (the fixtures)

    def test_something(procs: Processes, standin: SlackStandIn, db_url: str) -> None:
        web = procs.serve(db_url)                 # started, and /healthz answered 200
        worker = procs.worker(db_url, "--rate", "20")
        post_leads(web, [record])
        wait_until(lambda: ..., what="every card posted")
        worker.terminate()
"""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from bench.leadgen import records as generated_records
from leadqual.db.engine import make_engine
from tests.bot_helpers import CHANNEL, SIGNING_SECRET, block_actions_payload, interactive_body, signed_request
from tests.slack_standin import SlackStandIn

INTAKE_TOKEN = "intake-secret"
BOT_TOKEN = "xoxb-test-token"
MANAGER = "UMANAGER"
START_TIMEOUT = 30.0  # seconds for a process to answer /healthz (imports, bootstrap, auth.test)
STOP_TIMEOUT = 20.0  # seconds for a graceful stop before the finaliser uses SIGKILL


def wait_until(
    condition: Callable[[], bool],
    *,
    timeout: float = 30,
    what: str = "condition",
    interval: float = 0.05,
    watch: Iterable[Leadbot] = (),
) -> None:
    """Poll `condition` until it holds; fail naming `what` after `timeout` seconds.

    Processes in `watch` must keep running meanwhile: if one exits, fail at once with its output.
    """
    deadline = time.monotonic() + timeout
    watched = list(watch)
    while not condition():
        for proc in watched:
            if not proc.alive():
                raise AssertionError(
                    f"{proc.name} exited ({proc.process.returncode}) while waiting for: {what}\n{proc.tail()}"
                )
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for: {what}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Leadbot:
    """One running `leadbot` subprocess."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    port: int | None = None

    @property
    def url(self) -> str:
        assert self.port is not None, f"{self.name} is not a server"
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def terminate(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM and wait: the graceful stop a platform sends on deploy or scale-down."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
        return self.wait(timeout)

    def kill(self) -> int:
        """SIGKILL: no shutdown code runs (a crash, the OOM killer, a lost machine)."""
        if self.alive():
            self.process.kill()
        return self.wait(STOP_TIMEOUT)

    def wait(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name} did not exit in {timeout:g}s:\n{self.tail()}") from None

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def wait_healthy(self, timeout: float = START_TIMEOUT) -> None:
        """Poll GET /healthz until it answers 200 (failing at once if the process died)."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.alive():
                raise AssertionError(f"{self.name} exited with {self.process.returncode}:\n{self.tail()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass  # not listening yet
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} did not become healthy in {timeout:g}s:\n{self.tail()}")
            time.sleep(0.05)


@dataclass
class Processes:
    """Starts `leadbot` subprocesses against one Slack stand-in and remembers them for clean-up."""

    workdir: Path
    slack: SlackStandIn
    started: list[Leadbot] = field(default_factory=list)
    _serial: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def env(self, db_url: str, **extra: str) -> dict[str, str]:
        """The environment of a deployed Leadbot, pointed at `db_url` and the stand-in."""
        env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONUNBUFFERED": "1",
            "DATABASE_URL": db_url,
            "SLACK_API_URL": self.slack.url,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "LEADBOT_INTAKE_TOKEN": INTAKE_TOKEN,
            "LEADBOT_CHANNEL": CHANNEL,
            "LEADBOT_MANAGERS": MANAGER,
        }
        env.update(extra)
        return env

    def start(self, kind: str, db_url: str, *args: str, port: int | None = None, **env: str) -> Leadbot:
        """Start `leadbot <kind> <args>`; output goes to a log file in the work directory."""
        name = f"{kind}-{next(self._serial)}"
        log = self.workdir / f"{name}.log"
        extra = {"PORT": str(port)} if port is not None else {}
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", kind, *args],
                cwd=self.workdir,
                env=self.env(db_url, **extra, **env),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        proc = Leadbot(name=name, process=process, log=log, port=port)
        self.started.append(proc)
        return proc

    def serve(self, db_url: str, *, wait: bool = True, **env: str) -> Leadbot:
        """`leadbot serve` on a free port, healthy (unless `wait=False`)."""
        web = self.start("serve", db_url, "--host", "127.0.0.1", port=free_port(), **env)
        if wait:
            web.wait_healthy()
        return web

    def worker(self, db_url: str, *args: str, **env: str) -> Leadbot:
        """`leadbot worker <args>` (it has no health endpoint: wait on what it does)."""
        return self.start("worker", db_url, *args, **env)

    def run(self, db_url: str, *args: str, timeout: float = 60, **env: str) -> tuple[int, str]:
        """Run a one-shot command (`leadbot digest`, `leadbot worker --once`...) to its end: (exit code, output)."""
        proc = self.start(args[0], db_url, *args[1:], **env)
        code = proc.wait(timeout)
        return code, proc.output()

    def stop_all(self) -> None:
        """SIGTERM every process still running, then SIGKILL those that did not stop."""
        running = [p for p in self.started if p.alive()]
        for proc in running:
            proc.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for proc in running:
            try:
                proc.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.process.kill()
                proc.process.wait(timeout=STOP_TIMEOUT)


@pytest.fixture(name="standin")
def standin_fixture() -> Iterator[SlackStandIn]:
    """The Slack stand-in with wall-clock message ts, as the worker's crash recovery expects from Slack."""
    with SlackStandIn(wall_clock_ts=True) as slack:
        yield slack


@pytest.fixture(name="procs")
def procs_fixture(tmp_path: Path, standin: SlackStandIn) -> Iterator[Processes]:
    """Start Leadbot processes; whatever still runs at the end of the test is stopped."""
    workdir = tmp_path / "procs"
    workdir.mkdir()
    processes = Processes(workdir=workdir, slack=standin)
    try:
        yield processes
    finally:
        processes.stop_all()


# ---------------------------------------------------------------------------
# Talking to a running server
# ---------------------------------------------------------------------------


def post_leads(web: Leadbot, records: list[dict[str, Any]], *, client: httpx.Client | None = None) -> list[dict]:
    """POST /leads with the intake token; the `leads` of the 202 answer."""
    http = client or httpx.Client(timeout=30)
    try:
        answer = http.post(f"{web.url}/leads", json=records, headers={"Authorization": f"Bearer {INTAKE_TOKEN}"})
    finally:
        if client is None:
            http.close()
    assert answer.status_code == 202, f"{answer.status_code}: {answer.text}"
    leads: list[dict] = answer.json()["leads"]
    return leads


def post_to_slack_endpoint(
    web: Leadbot,
    body: str,
    *,
    content_type: str = "application/x-www-form-urlencoded",
    retry_num: int | None = None,
    client: httpx.Client | None = None,
) -> httpx.Response:
    """POST a body to /slack/events signed as Slack signs it (X-Slack-Retry-Num when `retry_num`)."""
    headers = {k: v[0] for k, v in signed_request(body, content_type=content_type, retry_num=retry_num).headers.items()}
    http = client or httpx.Client(timeout=30)
    try:
        return http.post(f"{web.url}/slack/events", content=body.encode(), headers=headers)
    finally:
        if client is None:
            http.close()


_triggers = itertools.count(1)


def block_action_body(
    action_id: str,
    lead_id: int,
    user: str,
    *,
    channel: str = CHANNEL,
    message_ts: str = "1700000000.000100",
    action_ts: str | None = None,
) -> str:
    """The form body of a block_actions click on a lead card's button."""
    payload = block_actions_payload(
        action_id,
        lead_id,
        user,
        trigger_id=f"trigger-proc-{next(_triggers)}",
        ts=action_ts,
        message_ts=message_ts,
        channel=channel,
    )
    return interactive_body(payload)


# ---------------------------------------------------------------------------
# The database under the processes
# ---------------------------------------------------------------------------


def restart_database(db_url: str) -> list[str]:
    """Simulate a PostgreSQL restart for this database: terminate every other backend connected to it.

    Only this test database's sessions go (the server and other databases stay up); clients
    see "terminating connection due to administrator command" on their next use, as after a
    restart or a failover. Returns the `application_name` of each backend terminated (give a
    process `?application_name=...` in its DATABASE_URL to find it there).
    """
    admin = make_engine(db_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as conn:
            return [
                str(name)
                for name, _ in conn.execute(
                    sa.text(
                        "SELECT application_name, pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
            ]
    finally:
        admin.dispose()


def with_application_name(db_url: str, name: str) -> str:
    """`db_url` with a PostgreSQL application_name, so the process's connections can be told apart."""
    return sa.make_url(db_url).update_query_dict({"application_name": name}).render_as_string(hide_password=False)


def fresh_records(n: int, *, seed: int) -> list[dict[str, Any]]:
    """`n` generated leads over every group (Poor fit included), received now."""
    out = []
    for record in generated_records(n, seed=seed):
        record.pop("received_at")
        out.append(record)
    return out
