"""Per-session upload quota, kept by the server (the browser's own size check can be bypassed).

A page asks ``UPLOADS.admit(session, slot, name, size)`` before it uses an upload; an upload over
the quota is refused with one line (and the page drops the file, so its bytes are freed). A slot
is one file picker (its widget key): a new file there replaces the old one, so the quota counts
what the session holds now, and a rerun that sees the same upload again costs nothing;
``forget`` releases slots, ``end_session`` everything.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field

from ..errors import ExplorerError
from ..i18n import N_
from ..units import format_bytes


class QuotaError(ExplorerError):
    """An upload beyond what one session may hold."""


@dataclass
class _Held:
    files: dict[str, int] = field(default_factory=dict)  # slot (file picker) -> bytes of its file

    @property
    def bytes(self) -> int:
        return sum(self.files.values())


class UploadQuota:
    def __init__(self, max_bytes: int, max_files: int, max_file_bytes: int | None = None) -> None:
        self.max_bytes, self.max_files = max_bytes, max_files
        self.max_file_bytes = max_file_bytes or max_bytes
        self._lock = threading.Lock()
        self._sessions: dict[str, _Held] = {}

    def admit(self, session: str, slot: str, name: str, size: int) -> None:
        """Count an upload in ``slot`` against its session (replacing the slot's earlier file), or
        raise ``QuotaError`` naming the file."""
        with self._lock:
            held = self._sessions.setdefault(session, _Held())
            held.files.pop(slot, None)  # replaced (or seen again by a rerun)
            if size > self.max_file_bytes:
                raise QuotaError(N_("{name}: the file is {size}; one upload may be at most {limit}"), name=name,
                                 size=format_bytes(size), limit=format_bytes(self.max_file_bytes))
            if len(held.files) + 1 > self.max_files:
                raise QuotaError(N_("{name}: this session already holds {n} uploads, the limit; remove one first"),
                                 name=name, n=len(held.files))
            if held.bytes + size > self.max_bytes:
                raise QuotaError(N_("{name}: this session's uploads would take {size}; the limit is {limit}: remove "
                                    "an upload first"), name=name, size=format_bytes(held.bytes + size),
                                 limit=format_bytes(self.max_bytes))
            held.files[slot] = size

    def forget(self, session: str, keep: set[str] | frozenset[str] = frozenset()) -> None:
        """Release the session's slots other than ``keep`` (the pickers that still hold a file)."""
        with self._lock:
            held = self._sessions.get(session)
            if held is not None:
                held.files = {k: v for k, v in held.files.items() if k in keep}

    def end_session(self, session: str) -> None:
        with self._lock:
            self._sessions.pop(session, None)

    def sessions(self) -> set[str]:
        with self._lock:
            return set(self._sessions)

    def held(self, session: str) -> tuple[int, int]:
        """(files, bytes) the session holds."""
        with self._lock:
            held = self._sessions.get(session, _Held())
            return len(held.files), held.bytes


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ[name])
    except (KeyError, ValueError):
        return default


# Per session: weights files (up to 256 MiB, .streamlit/config.toml maxUploadSize) and images.
UPLOADS = UploadQuota(max_bytes=_env_int("EXPLORER_SESSION_UPLOAD_BYTES", 300 * 2**20),
                      max_files=_env_int("EXPLORER_SESSION_UPLOADS", 8),
                      max_file_bytes=256 * 2**20)
