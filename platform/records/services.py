"""What the records use cases need from the running server, built once in ``create_app``."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from sendtrail.records.blobs import DiskBlobStore
from sendtrail.records.mime import MessageLimits
from sendtrail.settings import Settings
from sendtrail.tracking.stream import EventSink

__all__ = ["RecordsConfig"]


@dataclass(frozen=True)
class RecordsConfig:
    blobs: DiskBlobStore
    limits: MessageLimits
    tombstone_keys: tuple[bytes, ...]
    """Newest first: erasure writes with the first, lookups try all (keys rotate)."""
    public_url: str
    sinks: tuple[EventSink, ...] = field(default=())
    """Where engagements from logged replies go (the ingestion writer's sinks)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> RecordsConfig:
        return cls(
            blobs=DiskBlobStore(settings.blob_dir or settings.data_dir / "blobs"),
            limits=MessageLimits(),
            tombstone_keys=tuple(
                hmac.new(secret.encode(), b"sendtrail erasure tombstone v1", hashlib.sha256)
                .digest() for secret in settings.secrets.keys
            ),
            public_url=settings.http.public_url,
        )
