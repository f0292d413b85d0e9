"""The delivery worker: send the outbox to Slack at Slack's pace, and run the scheduled jobs.

One scheduling thread leases rows (see `leadqual.services.delivery`), keeps a small queue
per channel and hands each send to a thread pool, never more than one in flight per
channel. Each channel has its own next-allowed time: the answer time of its last call plus
1/rate, so calls reach Slack at no more than the rate even with network jitter
(https://docs.slack.dev/apis/web-api/rate-limits: about one message per second per
channel). A 429 holds back only its own channel, for the `Retry-After` seconds; 5xx and
connection errors retry with exponential backoff and jitter; other Slack errors are final
and the row goes dead (visible, re-queueable).

A row is marked sent only after Slack answered ok. A card, thread line or DM carries its
outbox id in the message metadata, so if the process died after Slack posted it but before
the database knew, the next attempt finds it in Slack instead of posting it again
(`bot.redelivery`); a repeated chat.update is harmless, it always sends the whole card.
"""

from bot.worker.jobs import start_scheduler
from bot.worker.loop import Worker, default_worker_id, run_worker
from bot.worker.options import WorkerOptions, WorkerStats

__all__ = ["Worker", "WorkerOptions", "WorkerStats", "default_worker_id", "run_worker", "start_scheduler"]
