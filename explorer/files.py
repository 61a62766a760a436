"""Files a user names: reading an input and writing an output, the one place for both (#24).

Inputs: only regular files are read (a FIFO would block forever, a device never ends), opened
without blocking and checked on the open file, so a swap after a check cannot slip through.

Outputs: a regular file (or a new name) is replaced atomically: a temporary file beside it, then a
rename, so it is either the old file or the complete new one, never a truncated one; through a
symlink the link stays and its target is replaced. Anything else the user named (a device such as
``/dev/null``, a FIFO, ``/dev/stdout``) is written directly: renaming over it would replace what is
not ours. A failed write is an ``OutputError``: one line.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
import tempfile
from pathlib import Path

from .errors import ExplorerError
from .i18n import N_

NOT_REGULAR = N_("{name}: not a regular file (a folder, FIFO or device); give a file")
# The process's own streams by the names users type: written through the open descriptor, never
# reopened (reopening /dev/stdout when it is a file would truncate what was already written there).
STREAMS = {"/dev/stdout": 1, "/dev/stderr": 2, "/dev/fd/1": 1, "/dev/fd/2": 2,
           "/proc/self/fd/1": 1, "/proc/self/fd/2": 2}


class NotRegularFileError(ExplorerError):
    """An input that is a folder, FIFO, socket or device."""


class OutputError(ExplorerError):
    """A file the command was asked to write, or the environment it needs, is not usable."""


def read_file(path: str | os.PathLike, limit: int) -> bytes:
    """Up to ``limit + 1`` bytes of the regular file ``path`` (more than ``limit`` means too big:
    the caller says so in its own words). OSError as ``open`` raises it; ``NotRegularFileError``
    for anything but a regular file, at once."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegularFileError(NOT_REGULAR, name=os.fspath(path))
        os.set_blocking(fd, True)
        file, fd = os.fdopen(fd, "rb"), None
    finally:
        if fd is not None:
            os.close(fd)
    with file:
        return file.read(limit + 1)


def _writable_kind(path: Path) -> str:
    """``_kind`` of an output path; a folder is refused (``IsADirectoryError``)."""
    kind = _kind(path)
    if kind == "folder":
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    return kind


def check_output(path: str | os.PathLike) -> None:
    """Refuse, before any slow work, an output that cannot be written: a folder, a missing or
    unwritable folder, a name too long. Devices and FIFOs are not opened (a FIFO would wait for
    its reader); their write reports its own failure."""
    path = Path(path)
    try:
        kind = _writable_kind(path)
        if kind == "replace":
            target = Path(os.path.realpath(path))
            try:
                target.lstat()  # a name too long, a file where a folder should be
            except FileNotFoundError:
                pass
            fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".explorer-", suffix=".partial")
            os.close(fd)
            os.remove(temp)
    except OSError as error:
        raise OutputError(N_("cannot write {path}: {why}"), path=path, why=error.strerror or error) from None


def write_output(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` as the module's docstring says; ``OutputError`` on failure."""
    path = Path(path)
    try:
        kind = _writable_kind(path)
        if kind == "stream":
            _write_stream(STREAMS[os.path.abspath(path)], data)
        elif kind == "direct":
            with open(path, "wb") as out:
                out.write(data)
        else:
            _replace(Path(os.path.realpath(path)), data)
    except OSError as error:
        raise OutputError(N_("cannot write {path}: {why}"), path=path, why=error.strerror or error) from None


def _kind(path: Path) -> str:
    """``stream`` (our own stdout/stderr), ``direct`` (a device, FIFO, socket, anything under
    /dev or /proc, or a file owned by someone else), ``folder``, or ``replace`` (a regular file,
    through its symlinks, or a new name)."""
    if os.path.abspath(path) in STREAMS:
        return "stream"
    if _points_into_system(path):
        return "direct"
    try:
        info = os.stat(path)  # follows symlinks
    except FileNotFoundError:
        return "replace"  # a new file (or a dangling link's new target)
    if stat.S_ISDIR(info.st_mode):
        return "folder"
    if not stat.S_ISREG(info.st_mode):
        return "direct"
    if hasattr(os, "geteuid") and os.geteuid() not in (0, info.st_uid):  # a rename would make it ours: write into it
        return "direct"
    return "replace"


def _points_into_system(path: Path) -> bool:
    """Whether ``path`` or a symlink on its way is under /dev or /proc (``/dev/fd/3``, a link to
    ``/dev/stdout``): those are written where they point, never renamed over."""
    current = os.path.abspath(path)
    for _hop in range(40):  # the kernel's own limit on a chain of links
        if current.startswith(("/dev/", "/proc/")):
            return True
        if not os.path.islink(current):
            return False
        current = os.path.normpath(os.path.join(os.path.dirname(current), os.readlink(current)))
    return False


def _write_stream(fd: int, data: bytes) -> None:
    for stream in (sys.stdout, sys.stderr):  # text printed before keeps its place
        stream.flush()
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _replace(target: Path, data: bytes) -> None:
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".explorer-", suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                old = target.stat()
            except FileNotFoundError:
                os.fchmod(out.fileno(), 0o666 & ~_umask())  # mkstemp's 0600 would hide the output from others
            else:  # the replaced file keeps its mode and, where we may set it, its owner
                os.fchmod(out.fileno(), stat.S_IMODE(old.st_mode))
                if hasattr(os, "fchown") and (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
                    try:
                        os.fchown(out.fileno(), old.st_uid, old.st_gid)
                    except OSError:
                        pass
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
        temp = None
    finally:
        if temp is not None and os.path.exists(temp):
            os.remove(temp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
