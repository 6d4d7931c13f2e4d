"""Prometheus metrics of the tracking engine (served at ``/metrics``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "BATCH_SIZE", "COMMIT_SECONDS", "DROPPED", "HITS", "REJECTED_TOKENS", "SPOOLED", "SPOOL_DEPTH",
]

HITS = Counter(
    "sendtrail_hits_total", "Tracking hits stored, by kind and verdict.", ["kind", "verdict"]
)
REJECTED_TOKENS = Counter(
    "sendtrail_rejected_tokens_total", "Requests whose token did not verify.", ["kind"]
)
BATCH_SIZE = Histogram(
    "sendtrail_commit_batch_size", "Hits per group-commit transaction.",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
)
COMMIT_SECONDS = Histogram(
    "sendtrail_commit_seconds", "Duration of one group-commit transaction.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
SPOOL_DEPTH = Gauge("sendtrail_spool_depth", "Hits waiting in the local spool for the database.")
SPOOLED = Counter("sendtrail_spooled_hits_total", "Hits written to the spool (database down).")
DROPPED = Counter(
    "sendtrail_hits_dropped_total",
    "Tracking hits answered but not stored: the database and the spool both refused them.",
)
