"""Content-addressed attachment storage on disk (an S3-compatible store can implement the
same ``BlobStore`` protocol later).

Each account has its own namespace, so identical files of two tenants are never shared
(no cross-tenant existence oracle, and erasure in one account cannot touch another's).
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path
from typing import Protocol

__all__ = ["BlobStore", "DiskBlobStore"]


class BlobStore(Protocol):
    def put(self, account_id: uuid.UUID, data: bytes) -> str: ...
    def get(self, account_id: uuid.UUID, sha256: str) -> bytes: ...
    def delete(self, account_id: uuid.UUID, sha256: str) -> None: ...
    def exists(self, account_id: uuid.UUID, sha256: str) -> bool: ...


class DiskBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, account_id: uuid.UUID, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / account_id.hex / sha256[:2] / sha256

    def put(self, account_id: uuid.UUID, data: bytes) -> str:
        """Store ``data`` (idempotently, atomically); return its SHA-256."""
        digest = hashlib.sha256(data).hexdigest()
        path = self._path(account_id, digest)
        if path.exists():
            return digest
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{digest}.{uuid.uuid4().hex}")
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        return digest

    def get(self, account_id: uuid.UUID, sha256: str) -> bytes:
        return self._path(account_id, sha256).read_bytes()

    def delete(self, account_id: uuid.UUID, sha256: str) -> None:
        self._path(account_id, sha256).unlink(missing_ok=True)

    def exists(self, account_id: uuid.UUID, sha256: str) -> bool:
        return self._path(account_id, sha256).exists()
