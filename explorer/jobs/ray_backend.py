"""Beyond one machine: jobs as tasks on an existing Ray cluster (``EXPLORER_RAY_ADDRESS``).

Each job is one Ray task that declares its memory limit (and a GPU when its estimate asks for
one) as Ray resources, so the scheduler puts it on a node that can hold it and GPU jobs land on
GPU nodes. Inside the task the same ``worker.run_limited`` sets the memory and CPU-time limits;
Ray reuses its worker processes, so ``worker.cached_model`` keeps models loaded between jobs.
The driver (the Streamlit server) keeps a watchdog for wall-clock limits and cancellation
(``ray.cancel(force=True)`` kills the worker; Ray starts another), and a small actor carries
progress back. Every node needs this package and its requirements installed.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from .job import Job, wait_until_free
from .limits import MIN_SECONDS, Estimate, JobCancelled, JobError, JobLimitError, JobLost, limits_for
from .worker import raise_for, run_limited, time_message

log = logging.getLogger("explorer.jobs")


STOP_POLL_SECONDS = 0.5  # how often a job that polls stop_requested() asks the board


def _ray_job(job_id: int, fn, args: tuple, kwargs: dict, limits, board):
    """The task: mark the start, run the job under its limits, send progress to the board and
    ask it (at most every ``STOP_POLL_SECONDS``) whether the user pressed Stop."""
    import ray

    board.start.remote(job_id, os.getpid())
    last = [0.0]
    asked = [0.0, False]

    def reporter(fraction: float, text: str, payload) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.05 or fraction >= 1.0:
            last[0] = now
            board.report.remote(job_id, fraction, text, payload)

    def stop_check() -> bool:
        now = time.monotonic()
        if not asked[1] and now - asked[0] >= STOP_POLL_SECONDS:
            asked[0] = now
            asked[1] = bool(ray.get(board.stopping.remote(job_id)))
        return asked[1]

    return run_limited(fn, args, kwargs, limits, reporter, stop_check)


class _Board:
    """Progress of the running jobs, {job id: [fraction, text, worker pid, payload]}, and the
    jobs asked to stop."""

    def __init__(self) -> None:
        self.state: dict[int, list] = {}
        self.stops: set[int] = set()

    def start(self, job_id: int, pid: int) -> None:
        self.state[job_id] = [0.0, "", pid, None]

    def report(self, job_id: int, fraction: float, text: str, payload=None) -> None:
        if job_id in self.state:
            self.state[job_id][:2] = [fraction, text]
            if payload is not None:
                self.state[job_id][3] = payload

    def stop(self, job_id: int) -> None:
        self.stops.add(job_id)

    def stopping(self, job_id: int) -> bool:
        return job_id in self.stops

    def snapshot(self) -> dict[int, list]:
        return self.state

    def forget(self, job_ids: list[int]) -> None:
        for job_id in job_ids:
            self.state.pop(job_id, None)
            self.stops.discard(job_id)


class RayRunner:
    def __init__(self, address: str, threads: int = 1, max_bytes: int | None = None,
                 max_seconds: float | None = None, max_wait_s: float = 300.0,
                 min_seconds: float = MIN_SECONDS) -> None:
        import ray

        self._ray = ray
        self.threads, self.max_bytes, self.max_seconds, self.max_wait_s = threads, max_bytes, max_seconds, max_wait_s
        self.min_seconds = min_seconds
        if not ray.is_initialized():
            ray.init(address=address, namespace="explorer", log_to_driver=False, logging_level=logging.WARNING)
        self._board = ray.remote(num_cpus=0)(_Board).remote()
        self._task = ray.remote(_ray_job)
        self._lock = threading.Lock()
        self._jobs: dict[int, tuple[Job, object]] = {}  # id -> (job, object ref), in submit order
        self._reasons: dict[int, str] = {}  # id -> why the driver killed it
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="explorer-ray-jobs", daemon=True)
        self._thread.start()

    def submit(self, fn, args: tuple, kwargs: dict, cost: Estimate, session: str | None) -> Job:
        limits = limits_for(cost, self.threads, self.max_bytes, self.max_seconds, self.min_seconds)
        job = Job(fn, args, kwargs, cost, limits, session, self)
        ref = self._task.options(num_cpus=max(self.threads, cost.threads), memory=limits.memory_bytes, num_gpus=1 if cost.gpu else 0,
                                 max_retries=0, name=f"explorer-job-{job.id}").remote(
            job.id, fn, args, kwargs, limits, self._board)
        with self._lock:
            if self._closed:
                raise JobError("the job runner is shut down")
            self._jobs[job.id] = (job, ref)
        return job

    def cancel(self, job: Job) -> None:
        self._kill(job, "cancelled")

    def stop(self, job: Job) -> None:
        """Ask ``job`` to finish early (``Job.stop``): its task reads this from the board."""
        self._board.stop.remote(job.id)

    def has_gpu(self) -> bool:
        """Whether the cluster has a GPU node for jobs that declare one."""
        return self._ray.cluster_resources().get("GPU", 0) >= 1

    def cancel_session(self, session: str) -> int:
        with self._lock:
            jobs = [job for job, _ in self._jobs.values() if job.session == session]
        for job in jobs:
            job.cancel()
        return len(jobs)

    def position(self, job: Job) -> int:
        with self._lock:
            queued = [j for j, _ in self._jobs.values() if j.started is None]
        return queued.index(job) + 1 if job in queued else 0

    def wait_estimate(self, job: Job) -> float:
        now = time.monotonic()
        slots = max(1, int(self._ray.cluster_resources().get("CPU", 1) // self.threads))
        with self._lock:
            running = [max(j.cost.seconds - (now - j.started), 0.0) for j, _ in self._jobs.values() if j.started]
            ahead = []
            for j, _ in self._jobs.values():
                if j is job:
                    break
                if j.started is None:
                    ahead.append(j.cost.seconds)
        return wait_until_free(running + [0.0] * max(slots - len(running), 0), ahead)

    def worker_pid(self, job: Job) -> int | None:
        snapshot = self._ray.get(self._board.snapshot.remote())
        return snapshot.get(job.id, [None] * 3)[2]

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            jobs = [job for job, _ in self._jobs.values()]
        for job in jobs:
            self._kill(job, "the server is shutting down")
        self._thread.join(timeout=5)

    # --- the watchdog --------------------------------------------------------------------------
    def _kill(self, job: Job, reason: str) -> None:
        with self._lock:
            entry = self._jobs.get(job.id)
            if entry is None:
                return
            self._reasons.setdefault(job.id, reason)
        try:
            self._ray.cancel(entry[1], force=True)
        except Exception:  # noqa: BLE001 - already finished
            pass

    def _loop(self) -> None:
        ray = self._ray
        while True:
            with self._lock:
                if self._closed and not self._jobs:
                    return
                refs = {ref: job for job, ref in self._jobs.values()}
            if not refs:
                time.sleep(0.05)
                continue
            try:
                done, _ = ray.wait(list(refs), num_returns=len(refs), timeout=0.1)
                for ref in done:
                    self._settle(refs[ref], ref)
                self._police(ray.get(self._board.snapshot.remote(), timeout=10))
            except Exception:  # noqa: BLE001 - the watchdog must outlive any one job's trouble
                log.exception("ray job watchdog")
                time.sleep(0.5)

    def _settle(self, job: Job, ref) -> None:
        ray = self._ray
        reason = self._reasons.get(job.id)
        try:
            status, value = ray.get(ref)
            try:
                job._finish(raise_for(status, value, job.limits))
            except Exception as error:  # noqa: BLE001 - the job's one-line error
                job._finish(error=error)
        except ray.exceptions.TaskCancelledError:
            job._finish(error=self._killed(job, reason))
        except (ray.exceptions.WorkerCrashedError, ray.exceptions.RayTaskError,
                ray.exceptions.NodeDiedError, ray.exceptions.ActorDiedError) as error:
            if reason is not None:
                job._finish(error=self._killed(job, reason))
            elif job.started and time.monotonic() - job.started >= 0.9 * job.limits.cpu_seconds / self.threads:
                job._finish(error=JobLimitError(time_message(job.limits, cpu=True)))
            else:
                log.warning("job %s: %s", job.id, error)
                job._finish(error=JobLost("the worker running this job stopped (killed or crashed); try again"))
        with self._lock:
            self._jobs.pop(job.id, None)
            self._reasons.pop(job.id, None)
        self._board.forget.remote([job.id])

    @staticmethod
    def _killed(job: Job, reason: str | None) -> JobError:
        if reason == "time":
            return JobLimitError(time_message(job.limits))
        if reason == "wait":
            return JobError("no worker of the cluster could take this job in time; try again in a minute")
        return JobCancelled(reason or "cancelled")

    def _police(self, snapshot: dict[int, list]) -> None:
        now = time.monotonic()
        with self._lock:
            jobs = [job for job, _ in self._jobs.values()]
        for job in jobs:
            if job.id in snapshot:
                if job.started is None:
                    job._start()
                fraction, text, _, payload = snapshot[job.id]
                job._report(fraction, text, payload)
                if now - job.started > job.limits.seconds:
                    self._kill(job, "time")
            elif now - job.submitted > self.max_wait_s:
                self._kill(job, "wait")
