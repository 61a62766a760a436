"""Per-session upload quota, kept by the server (the browser's own size check can be bypassed).

Every file a session makes the server hold counts, whether or not a page ever reads it (issue
#24): Streamlit's upload handler reserves a PUT's declared size before reading its body
(``reserve``), then counts the file before storing it (``admit``, keyed by the upload's file id);
what would go over is refused with one line, and a refused upload is never stored. Deleting a file
releases it (``release``), a session's end all of them (``end_session``). A page that reads an
upload calls ``admit`` again with its file picker (``slot``): the same file id is counted once,
and a new file in a picker replaces the picker's earlier one, which is returned so the page can
drop its bytes. The Streamlit side of this is ``pages/ui/uploads.py``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from .. import environment
from ..errors import ExplorerError
from ..i18n import N_
from ..units import format_bytes


class QuotaError(ExplorerError):
    """An upload beyond what one session may hold."""


@dataclass
class _Held:
    files: dict[str, int] = field(default_factory=dict)  # file id -> bytes, stored
    incoming: dict[str, int] = field(default_factory=dict)  # file id -> bytes declared, being received
    slots: dict[str, str] = field(default_factory=dict)  # file picker (widget key) -> the file id it holds

    def others(self, file_id: str) -> tuple[int, int]:
        """(files, bytes) held or being received, other than ``file_id``."""
        sizes = [v for k, v in self.files.items() if k != file_id] + \
                [v for k, v in self.incoming.items() if k != file_id and k not in self.files]
        return len(sizes), sum(sizes)


class UploadQuota:
    def __init__(self, max_bytes: int, max_files: int, max_file_bytes: int | None = None) -> None:
        self.max_bytes, self.max_files = max_bytes, max_files
        self.max_file_bytes = max_file_bytes or max_bytes
        self._lock = threading.Lock()
        self._sessions: dict[str, _Held] = {}

    def _check(self, held: _Held, file_id: str, name: str, size: int) -> None:
        if size > self.max_file_bytes:
            raise QuotaError(N_("{name}: the file is {size}; one upload may be at most {limit}"), name=name,
                             size=format_bytes(size), limit=format_bytes(self.max_file_bytes))
        files, held_bytes = held.others(file_id)
        if files + 1 > self.max_files:
            raise QuotaError(N_("{name}: this session already holds {n} uploads, the limit; remove one first"),
                             name=name, n=files)
        if held_bytes + size > self.max_bytes:
            raise QuotaError(N_("{name}: this session's uploads would take {size}; the limit is {limit}: remove "
                                "an upload first"), name=name, size=format_bytes(held_bytes + size),
                             limit=format_bytes(self.max_bytes))

    def reserve(self, session: str, file_id: str, size: int, name: str = "upload") -> None:
        """Hold room for an upload of ``size`` bytes (its declared length) while it is received,
        or raise ``QuotaError``: nothing of a refused upload is read."""
        with self._lock:
            held = self._sessions.setdefault(session, _Held())
            self._check(held, file_id, name, size)
            held.incoming[file_id] = size

    def unreserve(self, session: str, file_id: str) -> None:
        """The upload ``file_id`` is no longer being received (stored, refused or broken off)."""
        with self._lock:
            held = self._sessions.get(session)
            if held is not None:
                held.incoming.pop(file_id, None)
                self._drop_if_empty(session, held)

    def admit(self, session: str, file_id: str, name: str, size: int, slot: str | None = None) -> str | None:
        """Count the upload ``file_id`` of ``size`` bytes against its session (once, however often
        it is seen), or raise ``QuotaError`` naming the file. With ``slot`` (a file picker): the
        picker's earlier file, if another, is released first and its id returned."""
        with self._lock:
            held = self._sessions.setdefault(session, _Held())
            replaced = held.slots.get(slot) if slot is not None else None
            if replaced == file_id:
                replaced = None
            if replaced is not None:
                held.files.pop(replaced, None)
                del held.slots[slot]
            try:
                self._check(held, file_id, name, size)
            except QuotaError:
                self._drop_if_empty(session, held)
                raise
            held.files[file_id] = size
            held.incoming.pop(file_id, None)
            if slot is not None:
                held.slots[slot] = file_id
            return replaced

    def release(self, session: str, file_id: str) -> None:
        """The file ``file_id`` was deleted."""
        with self._lock:
            held = self._sessions.get(session)
            if held is not None:
                held.files.pop(file_id, None)
                held.slots = {k: v for k, v in held.slots.items() if v != file_id}
                self._drop_if_empty(session, held)

    def _drop_if_empty(self, session: str, held: _Held) -> None:
        if not held.files and not held.incoming:
            self._sessions.pop(session, None)

    def end_session(self, session: str) -> None:
        with self._lock:
            self._sessions.pop(session, None)

    def sessions(self) -> set[str]:
        with self._lock:
            return set(self._sessions)

    def holds(self, session: str, file_id: str) -> bool:
        with self._lock:
            return file_id in self._sessions.get(session, _Held()).files

    def held(self, session: str) -> tuple[int, int]:
        """(files, bytes) the session holds (stored, not counting uploads being received)."""
        with self._lock:
            held = self._sessions.get(session, _Held())
            return len(held.files), sum(held.files.values())


# Per session: weights files (up to 256 MiB, .streamlit/config.toml maxUploadSize) and images.
UPLOADS = UploadQuota(max_bytes=environment.session_upload_bytes(), max_files=environment.session_uploads(),
                      max_file_bytes=256 * 2**20)
