"""The embedded back end: a pool of worker processes started by the app itself.

Workers are fresh interpreters (the server process has torch loaded and runs threads, so forking
it is unsafe; and unlike multiprocessing's 'spawn', a fresh interpreter does not re-run the
server's main script), each connected by a socket and running one job at a time
(``worker.pool_worker``). One
thread in the server process hands queued jobs to idle workers, relays progress, and enforces
what a worker cannot enforce on itself: the wall-clock limit, the resident-memory limit and
cancellation, all by killing the worker. A killed or exited worker is replaced at once; the
other workers, and their users, carry on.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from multiprocessing.connection import Connection, wait

from .. import environment
from ..i18n import N_
from .job import Job, wait_until_free
from .limits import (MIN_SECONDS, Estimate, JobCancelled, JobError, JobLimitError, JobLost, default_workers,
                     limits_for)
from .worker import memory_message, pool_worker, raise_for, resident_bytes, time_message

log = logging.getLogger("explorer.jobs")
STARTUP_SECONDS = 5.0  # a new worker imports torch before it is ready (wait estimates count it)


_BOOT = ("import sys; from multiprocessing.connection import Connection; conn = Connection({fd}); "
         "sys.path[:] = conn.recv(); from explorer.jobs.worker import pool_worker; pool_worker(conn, {threads})")


class _Worker:
    def __init__(self, threads: int) -> None:
        ours, theirs = socket.socketpair()
        self.process = subprocess.Popen([sys.executable, "-c", _BOOT.format(fd=theirs.fileno(), threads=threads)],
                                        pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL)
        theirs.close()
        self.conn = Connection(ours.detach())
        self.conn.send(list(sys.path))
        self.born = time.monotonic()
        self.ready = False
        self.job: Job | None = None
        self.job_rss = 0  # resident bytes when its job started
        self.kill_reason: str | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self, reason: str) -> None:
        if self.kill_reason is None:
            self.kill_reason = reason
        try:
            self.process.kill()
        except OSError:  # already gone
            pass

    def exited(self, timeout: float = 0.0) -> bool:
        try:
            self.process.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            return False


class LocalPool:
    """Runs jobs in ``workers`` processes of ``threads`` torch threads each; ``spares`` more are
    started and kept idle, so that a killed or recycled worker is replaced at once (a worker
    takes seconds to import torch)."""

    def __init__(self, workers: int | None = None, threads: int | None = None, max_bytes: int | None = None,
                 max_seconds: float | None = None, max_wait_s: float = 300.0,
                 min_seconds: float = MIN_SECONDS, spares: int | None = None) -> None:
        self.size = workers or default_workers()
        self.spares = environment.spare_workers() if spares is None else spares
        self.threads = threads or max(1, (os.cpu_count() or 1) // self.size)
        self.max_bytes, self.max_seconds, self.max_wait_s = max_bytes, max_seconds, max_wait_s
        self.min_seconds = min_seconds
        self._lock = threading.RLock()
        self._queue: deque[Job] = deque()
        self._cancel: set[int] = set()
        self._closed = False
        self._wake_r, self._wake_w = _pipe()
        self._workers = [_Worker(self.threads) for _ in range(self.size)]
        self._spares = [_Worker(self.threads) for _ in range(self.spares)]
        self._thread = threading.Thread(target=self._loop, name="explorer-jobs", daemon=True)
        self._thread.start()

    # --- the API the job handles and ``explorer.jobs`` use -------------------------------------
    def submit(self, fn, args: tuple, kwargs: dict, cost: Estimate, session: str | None) -> Job:
        limits = limits_for(cost, self.threads, self.max_bytes, self.max_seconds, self.min_seconds)
        job = Job(fn, args, kwargs, cost, limits, session, self)
        with self._lock:
            if self._closed:
                raise JobError("the job pool is shut down")
            self._queue.append(job)
        self._wake()
        return job

    def cancel(self, job: Job) -> None:
        with self._lock:
            if job in self._queue:
                self._queue.remove(job)
                job._finish(error=JobCancelled(N_("cancelled")))
                return
            self._cancel.add(job.id)
        self._wake()

    def stop(self, job: Job) -> None:
        """Tell the worker running ``job`` that its user asked it to finish (``Job.stop``)."""
        with self._lock:
            for w in self._workers:
                if w.job is job:
                    try:
                        w.conn.send(("stop", job.id))
                    except (OSError, ValueError):
                        pass  # it died: _replace settles the job
                    return

    def has_gpu(self) -> bool:
        """Whether the workers of this machine have a CUDA device."""
        import torch

        return torch.cuda.is_available()

    def cancel_session(self, session: str) -> int:
        with self._lock:
            jobs = [j for j in self._queue if j.session == session]
            jobs += [w.job for w in self._workers if w.job is not None and w.job.session == session]
        for job in jobs:
            job.cancel()
        return len(jobs)

    def position(self, job: Job) -> int:
        with self._lock:
            try:
                return self._queue.index(job) + 1
            except ValueError:
                return 0

    def wait_estimate(self, job: Job) -> float:
        """Greedy schedule of the jobs ahead on the workers, by their estimated seconds."""
        now = time.monotonic()
        with self._lock:
            free = []
            for w in self._workers:
                if not w.ready:
                    free.append(max(STARTUP_SECONDS - (now - w.born), 0.0))
                elif w.job is not None:
                    free.append(max(w.job.cost.seconds - (now - (w.job.started or now)), 0.0))
                else:
                    free.append(0.0)
            ahead = []
            for queued in self._queue:
                if queued is job:
                    break
                ahead.append(queued.cost.seconds)
        return wait_until_free(free, ahead)

    def worker_pids(self) -> list[int]:
        with self._lock:
            return [w.pid for w in self._workers]

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            queued, self._queue = list(self._queue), deque()
            workers = list(self._workers) + list(self._spares)
        for job in queued:
            job._finish(error=JobCancelled(N_("the server is shutting down")))
        for w in workers:
            if w.job is not None:
                w.kill("the server is shutting down")
            else:
                try:
                    w.conn.send(None)
                except (OSError, ValueError):
                    pass
        self._wake()
        self._thread.join(timeout=5)
        for w in workers:
            if not w.exited(2):
                w.kill("shutdown")
                w.exited(2)
            w.conn.close()

    # --- the dispatcher thread -----------------------------------------------------------------
    def _wake(self) -> None:
        try:
            self._wake_w.send_bytes(b"!")
        except (OSError, ValueError):
            pass

    def _loop(self) -> None:
        while True:
            with self._lock:
                if self._closed and all(w.job is None for w in self._workers):
                    break
                by_conn = {w.conn: w for w in self._workers + self._spares}
                # Policing running jobs (time, memory) needs a short beat; an idle pool only wakes
                # for a message (a submit or cancel, a worker's), so it costs the server no CPU.
                active = bool(self._queue) or any(w.job is not None for w in self._workers)
            try:
                ready = wait([self._wake_r, *by_conn], timeout=0.05 if active else 1.0)
            except OSError:
                ready = []
            for obj in ready:
                if obj is self._wake_r:
                    while self._wake_r.poll():
                        self._wake_r.recv_bytes()
                elif not self._receive(by_conn[obj]):  # end of file: the worker exited or was killed
                    self._replace(by_conn[obj])
            try:
                self._police()
                self._dispatch()
            except Exception:  # noqa: BLE001 - the dispatcher must outlive any one job's trouble
                log.exception("job dispatcher")

    def _receive(self, w: _Worker) -> bool:
        """Handle what a worker sent; False once its connection is closed (it is gone)."""
        try:
            while w.conn.poll():
                try:
                    message = w.conn.recv()
                except (EOFError, OSError):
                    raise
                except Exception as error:  # noqa: BLE001 - a result this process cannot unpickle
                    if w.job is not None:
                        w.job._finish(error=JobError(f"the job's result cannot be read ({error})"))
                    w.kill("unreadable message")
                    return True
                kind = message[0]
                if kind == "ready":
                    w.ready = True
                elif kind == "progress" and w.job is not None and w.job.id == message[1]:
                    w.job._report(message[2], message[3], message[4])
                elif kind == "done" and w.job is not None and w.job.id == message[1]:
                    job, w.job = w.job, None
                    _, _, status, value, recycle = message
                    w.ready = w.ready and not recycle  # it exits now: no new job for it
                    try:
                        job._finish(raise_for(status, value, job.limits))
                    except Exception as error:  # noqa: BLE001 - the job's one-line error
                        job._finish(error=error)
        except (EOFError, OSError):
            return False
        return True

    def _replace(self, w: _Worker) -> None:
        if not w.exited(2):
            w.kill("its connection closed")
            w.exited(2)
        job = w.job
        if job is not None:
            code = w.process.returncode
            if w.kill_reason == "cancelled":
                error: JobError = JobCancelled(N_("cancelled"))
            elif w.kill_reason in ("memory", "time"):
                error = JobLimitError(memory_message(job.limits) if w.kill_reason == "memory"
                                      else time_message(job.limits))
            elif code == -signal.SIGXCPU:
                error = JobLimitError(time_message(job.limits, cpu=True))
            elif w.kill_reason is not None:
                error = JobCancelled(w.kill_reason)
            else:
                error = JobLost(N_("the worker running this job stopped ({why}); try again"), why=_exit_text(code))
            job._finish(error=error)
            log.warning("job %s: %s", job.id, error)
        with self._lock:
            self._cancel.discard(job.id if job else -1)
            w.conn.close()
            if self._closed:
                w.job = None
                return
            if not w.ready and time.monotonic() - w.born < 1.0:
                time.sleep(1.0)  # a worker that cannot even start: do not spin
            if w in self._spares:
                self._spares[self._spares.index(w)] = _Worker(self.threads)
                return
            index = self._workers.index(w)
            spare = next((x for x in self._spares if x.ready), None)
            if spare is None:
                self._workers[index] = _Worker(self.threads)
            else:  # the ready spare takes the slot; a new spare starts behind it
                self._workers[index] = spare
                self._spares[self._spares.index(spare)] = _Worker(self.threads)

    def _police(self) -> None:
        now = time.monotonic()
        with self._lock:
            cancel = set(self._cancel)
            busy = [w for w in self._workers if w.job is not None and w.kill_reason is None]
            for job in [j for j in self._queue if now - j.submitted > self.max_wait_s]:
                self._queue.remove(job)
                job._finish(error=JobError(N_("the server is busy (waited {seconds} s for a free worker); try "
                                              "again in a minute"), seconds=f"{self.max_wait_s:.0f}"))
        for w in busy:
            job = w.job
            if job.id in cancel:
                w.kill("cancelled")
            elif now - job.started > job.limits.seconds:
                w.kill("time")
            else:
                try:
                    if resident_bytes(w.pid) > w.job_rss + job.limits.memory_bytes:
                        w.kill("memory")
                except OSError:
                    pass

    def _dispatch(self) -> None:
        with self._lock:
            for w in self._workers:
                if not self._queue:
                    return
                if not w.ready or w.job is not None or w.kill_reason is not None or w.process.poll() is not None:
                    continue
                job = self._queue.popleft()
                w.job = job
                try:
                    w.job_rss = resident_bytes(w.pid)
                except OSError:
                    w.job_rss = 0
                job._start()
                try:
                    w.conn.send(("run", job.id, job.fn, job.args, job.kwargs, job.limits))
                except (OSError, ValueError):
                    pass  # the worker died: its connection closes and _replace settles the job
                except Exception as error:  # noqa: BLE001 - arguments that cannot be pickled
                    w.job = None
                    job._finish(error=JobError(f"the job's input cannot be sent to a worker ({error})"))


def _pipe() -> tuple[Connection, Connection]:
    read, write = os.pipe()
    return Connection(read, writable=False), Connection(write, readable=False)


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit status {code}"
