"""Prometheus metrics of the tracking engine (served at ``/metrics``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "BATCH_SIZE", "COMMIT_SECONDS", "DERIVED", "DERIVER_LAG", "DERIVE_SECONDS", "DROPPED", "HITS",
    "RAW_HITS_PENDING", "REJECTED_TOKENS", "SPOOLED", "SPOOL_DEPTH",
]

HITS = Counter(
    "sendtrail_hits_total", "Engagements stored by the deriver, by kind and verdict.",
    ["kind", "verdict"],
)
REJECTED_TOKENS = Counter(
    "sendtrail_rejected_tokens_total", "Requests whose token did not verify.", ["kind"]
)
BATCH_SIZE = Histogram(
    "sendtrail_commit_batch_size", "Raw hits per group-commit transaction of the hot path.",
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
DERIVED = Counter(
    "sendtrail_derived_total", "Raw hits derived (turned into engagements or dropped as erased)."
)
DERIVER_LAG = Histogram(
    "sendtrail_deriver_lag_seconds",
    "From a hit's arrival to the commit of its derivation.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
DERIVE_SECONDS = Histogram(
    "sendtrail_derive_seconds", "Duration of one deriver round (until nothing was waiting).",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
RAW_HITS_PENDING = Gauge(
    "sendtrail_raw_hits_pending",
    "Raw hits waiting for the deriver, as a live process last saw (the span of their sequence "
    "numbers: exact on SQLite, an upper bound on PostgreSQL).",
    # Under `serve --workers` every process reports: the backlog is the largest recent view.
    multiprocess_mode="livemax",
)
