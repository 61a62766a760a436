"""The job layer, on the embedded pool and on a real two-node Ray cluster on loopback: the same
tests for both (``runner`` is parametrised). Limits are set small (``min_seconds``) so that a job
over its time limit is stopped within seconds.

The Ray cluster is two ``ray start --block`` processes (a head and a second node, one CPU and a
small object store each); stopping those processes stops their nodes. The Ray tests are skipped,
with the reason printed, only when Ray is not installed or its head node cannot start.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from explorer.errors import ExplorerError
from explorer.jobs import Estimate, GiB, JobCancelled, JobError, JobLimitError, JobLost, JobRefused, MiB
from explorer.jobs.pool import LocalPool
from explorer.jobs.worker import resident_bytes
from tests import jobs_work as work
from tests.helpers.server import free_port
from tests.helpers.wait import wait_for

ROOT = Path(__file__).resolve().parents[2]
SMALL = Estimate(16 * MiB, 0.1)
# Limits of a SMALL job with min_seconds=1: CPU 1.4 s, wall 5.8 s, memory 24 MiB + 512 MiB headroom.
MIN_SECONDS = 1.0


# --- the back ends --------------------------------------------------------------------------

def _descendants(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    children.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                pass
    return children + [grandchild for child in children for grandchild in _descendants(child)]


@pytest.fixture(scope="module")
def ray_cluster():
    """A head node and a second node on 127.0.0.1, one CPU each; always stopped afterwards."""
    ray_bin = Path(sys.executable).parent / "ray"
    try:
        import ray  # noqa: F401
    except ImportError:
        print("SKIP reason: ray is not installed")
        pytest.skip("ray is not installed")
    port = free_port()
    temp = tempfile.mkdtemp(prefix="rayj", dir="/tmp")  # short: Ray's socket paths have a length limit
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           "RAY_USAGE_STATS_ENABLED": "0", "RAY_raylet_start_wait_time_s": "120"}

    def start(role: list[str], log: str, worker_ports: int) -> subprocess.Popen:
        # two nodes on one address: each needs its own ports, or the second raylet cannot bind
        ports = [a for flag in ("--node-manager-port", "--object-manager-port", "--metrics-export-port",
                                "--dashboard-agent-listen-port", "--dashboard-agent-grpc-port",
                                "--runtime-env-agent-port") for a in (flag, str(free_port()))]
        return subprocess.Popen(
            [str(ray_bin), "start", *role, *ports, "--min-worker-port", str(worker_ports),
             "--max-worker-port", str(worker_ports + 99), "--num-cpus", "1", "--object-store-memory",
             str(80 * 10**6), "--node-ip-address", "127.0.0.1", "--disable-usage-stats", "--block"],
            env=env, stdout=open(f"{temp}/{log}.out", "w"), stderr=subprocess.STDOUT, start_new_session=True)

    def started(node: subprocess.Popen, log: str) -> bool:
        if node.poll() is not None:
            raise RuntimeError(Path(f"{temp}/{log}.out").read_text()[-300:])
        return "Ray runtime started" in Path(f"{temp}/{log}.out").read_text()

    nodes = [start(["--head", "--port", str(port), "--include-dashboard=false", "--temp-dir", temp], "head",
                   21000)]
    address = f"127.0.0.1:{port}"
    try:
        try:
            import ray

            wait_for(lambda: started(nodes[0], "head"), 120, 0.2)
        except Exception as error:  # noqa: BLE001 - reported as the skip reason
            print(f"SKIP reason: the Ray head node did not start: {error}")
            pytest.skip(f"the Ray head node did not start: {error}")
        nodes.append(start(["--address", address], "second", 22000))
        wait_for(lambda: started(nodes[1], "second"), 120, 0.2)
        # the driver joins as 127.0.0.1 too (by default it looks for a node on the machine's own address)
        ray.init(address=address, namespace="explorer-tests", log_to_driver=False, _node_ip_address="127.0.0.1")
        wait_for(lambda: len([n for n in ray.nodes() if n["Alive"]]) == 2, 60, 0.2)
        yield address
    finally:
        try:
            import ray

            ray.shutdown()
        except Exception:  # noqa: BLE001
            pass
        pids = [pid for node in nodes for pid in _descendants(node.pid)]
        for node in reversed(nodes):  # stopping `ray start --block` stops that node's processes
            node.send_signal(signal.SIGTERM)
        for node in nodes:
            try:
                node.wait(30)
            except subprocess.TimeoutExpired:
                node.kill()
        time.sleep(1)
        for pid in pids:  # anything the nodes left behind
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        subprocess.run(["rm", "-rf", temp], check=False)


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module", params=["pool", pytest.param("ray", marks=pytest.mark.slow)])
def runner(request):
    if request.param == "pool":
        backend = LocalPool(workers=2, threads=1, min_seconds=MIN_SECONDS)
        wait_for(lambda: all(w.ready for w in backend._workers), 120, 0.1)
    else:
        from explorer.jobs.ray_backend import RayRunner

        backend = RayRunner(request.getfixturevalue("ray_cluster"), min_seconds=MIN_SECONDS)
        warm = [backend.submit(work.sleeper, (1.0, 2), {}, SMALL, None) for _ in range(2)]
        assert len({job.result(180) for job in warm}) == 2  # a worker started on each node
    yield backend
    backend.shutdown()


def submit(runner, fn, *args, cost=SMALL, session=None):
    return runner.submit(fn, args, {}, cost, session)


def running_pid(job) -> int:
    """The worker pid a ``work.sleeper`` job reports as its progress text."""
    return int(wait_for(lambda: job.progress().text, 60))


# --- the tests --------------------------------------------------------------------------------

@pytest.mark.slow
def test_result_and_progress(runner):
    job = submit(runner, work.sleeper, 1.0, 10)
    pid = running_pid(job)
    assert pid != os.getpid()
    seen = wait_for(lambda: job.progress().fraction >= 0.3 and job.progress(), 30)
    assert seen.state == "running" and seen.text == str(pid)
    assert job.result(30) == pid
    assert job.progress() == type(seen)("done", 1.0, str(pid))
    assert job.position() == 0 and job.wait_estimate() == 0.0


@pytest.mark.slow
def test_payload_and_graceful_stop(runner):
    """A job reports a payload beside its fraction; Stop asks it to finish and return what it has,
    killing nothing (unlike Cancel)."""
    job = submit(runner, work.stoppable, 60.0, cost=Estimate(16 * MiB, 10.0))
    pid = running_pid(job)
    seen = wait_for(lambda: (job.progress().payload or {}).get("steps", 0) >= 5 and job.progress().payload, 60)
    assert seen["last"] == list(range(seen["steps"]))[-5:]
    job.stop()
    result = job.result(30)
    assert result["stopped"] and result["steps"] >= seen["steps"]
    assert job.progress().state == "done" and _alive(pid)  # its worker lives on
    job.stop()  # over: nothing happens
    assert submit(runner, work.pid).result(60) > 0


def test_errors_come_back_as_one_line(runner):
    with pytest.raises(ExplorerError, match="^photo.png: bad input$"):
        submit(runner, work.refuse, "photo.png: bad input").result(60)
    with pytest.raises(JobError) as caught:
        submit(runner, work.broken).result(60)
    assert "ZeroDivisionError" in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(JobRefused, match="reduce the batch size$"):
        submit(runner, work.pid, cost=Estimate(10**15, 1.0, reduce="the batch size"))


@pytest.mark.slow
def test_queue_position_and_wait_estimate(runner):
    submit(runner, work.pid).result(60)
    if isinstance(runner, LocalPool):  # a worker replaced by an earlier test may still be starting
        wait_for(lambda: all(w.ready for w in runner._workers), 60)
    long = [submit(runner, work.sleeper, 2.5, 5, cost=Estimate(16 * MiB, 2.5)) for _ in range(2)]
    wait_for(lambda: all(j.progress().state == "running" for j in long), 120)  # both workers busy
    behind = submit(runner, work.pid, cost=Estimate(16 * MiB, 0.5))
    last = submit(runner, work.pid, cost=Estimate(16 * MiB, 0.5))
    assert (behind.position(), last.position()) == (1, 2)
    # both slots free within 2.5 s; "last" waits behind "behind" on the first free slot
    first, second = behind.wait_estimate(), last.wait_estimate()  # (time passes between the two calls)
    assert 0 < first <= 2.5 and first - 0.05 <= second <= 2.5
    assert last.result(60) > 0 and behind.result(60) > 0
    for job in long:
        job.result(60)


@pytest.mark.slow
def test_memory_limit_kills_the_job_and_the_pool_keeps_serving(runner):
    job = submit(runner, work.allocate, 2 * GiB)  # its limit: 24 MiB + 512 MiB headroom
    with pytest.raises(JobLimitError) as caught:
        job.result(60)
    assert "memory limit of 536 MiB" in str(caught.value) and "\n" not in str(caught.value)
    assert submit(runner, work.allocate, 8 * MiB).result(60) == 8 * MiB


@pytest.mark.slow
def test_time_limits(runner):
    # each would run 60 s; result(60) would raise TimeoutError instead of the limit's one line
    with pytest.raises(JobLimitError, match="over its time limit of 6 s"):  # wall clock: 5.8 s
        submit(runner, work.sleeper, 60.0).result(60)
    # CPU: 1.4 s (the kernel counts whole seconds: it stops the worker within 2.4 s of CPU); on a
    # machine too busy to give the job that much CPU in 5.8 s, the wall clock stops it first
    with pytest.raises(JobLimitError, match="over its (CPU-time limit of 1 s|time limit of 6 s)"):
        submit(runner, work.burn_cpu, 60.0).result(60)
    assert submit(runner, work.pid).result(60) > 0


def test_pool_workers_yield_the_cpu_to_the_server(runner):
    """A slider step (the server) comes before a job: the pool's workers run at nice +10."""
    if not isinstance(runner, LocalPool):
        pytest.skip("Ray's workers are started by Ray")
    # 19 is the kernel's ceiling (a server started under `nice` cannot go 10 further)
    assert submit(runner, os.nice, 0).result(60) >= min(os.nice(0) + 10, 19)


@pytest.mark.slow
def test_cancel_running_queued_and_by_session(runner):
    running = submit(runner, work.sleeper, 30.0, 30, cost=Estimate(16 * MiB, 10.0), session="a")
    pid = running_pid(running)
    other = submit(runner, work.sleeper, 30.0, 30, cost=Estimate(16 * MiB, 10.0), session="b")
    queued = submit(runner, work.pid, cost=Estimate(16 * MiB, 10.0), session="a")
    wait_for(lambda: other.progress().state == "running", 60)
    assert queued.progress().state == "queued"
    assert runner.cancel_session("a") == 2
    for job in (running, queued):  # not cancelled, the running one would end with a value after 30 s
        with pytest.raises(JobCancelled, match="^cancelled$"):
            job.result(30)
    wait_for(lambda: not _alive(pid), 30)  # the worker was killed, not left running
    assert other.progress().state == "running"  # the other session noticed nothing
    other.cancel()
    with pytest.raises(JobCancelled):
        other.result(30)
    assert submit(runner, work.pid).result(60) > 0


@pytest.mark.slow
def test_worker_killed_mid_job(runner):
    job = submit(runner, work.sleeper, 30.0, 30, cost=Estimate(16 * MiB, 10.0))
    os.kill(running_pid(job), signal.SIGKILL)
    with pytest.raises(JobLost, match="stopped") as caught:
        job.result(60)
    assert "\n" not in str(caught.value)
    assert submit(runner, work.pid).result(120) > 0  # a replacement worker serves the next job


@pytest.mark.slow
def test_memory_returns_after_ten_heavy_jobs(runner):
    """Ten jobs of 400 MB each, run outside this (the server's) process: its resident memory
    after them is within 10 % of before; so is the pool's (workers recycled or trimmed)."""
    def pool_bytes():
        return sum(resident_bytes(p) for p in runner.worker_pids()) if isinstance(runner, LocalPool) else 0

    if isinstance(runner, LocalPool):
        wait_for(lambda: all(w.ready for w in runner._workers), 60)
    warm = [submit(runner, work.sleeper, 0.5, 5) for _ in range(2)]  # both workers past their first job
    assert len({j.result(60) for j in warm}) == 2
    before, workers_before = resident_bytes(), pool_bytes()
    jobs = [submit(runner, work.allocate, 400 * 10**6, cost=Estimate(400 * 10**6, 1.0)) for _ in range(10)]
    assert [j.result(120) for j in jobs] == [400 * 10**6] * 10
    time.sleep(0.5)
    after = resident_bytes()
    assert abs(after - before) <= 0.1 * before, (before, after)
    if isinstance(runner, LocalPool):
        wait_for(lambda: all(w.ready for w in runner._workers), 60)
        assert pool_bytes() <= 1.1 * workers_before, (workers_before, pool_bytes())


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
def test_an_idle_pool_does_not_wake_the_server():
    """The dispatcher polices running jobs on a short beat but sleeps while idle (a replica's one
    core is the students' slider steps'): in 2.5 idle seconds it looks at its workers at most a few
    times; while a job runs, many times (time and memory limits are enforced on that beat)."""
    pool = LocalPool(workers=1, threads=1, spares=0, min_seconds=MIN_SECONDS)
    try:
        wait_for(lambda: all(w.ready for w in pool._workers), 120)
        beats = []
        police = pool._police
        pool._police = lambda: (beats.append(time.monotonic()), police())
        time.sleep(2.5)
        idle = len(beats)
        assert idle <= 4, idle  # a 50 ms beat would be ~50
        job = submit(pool, work.sleeper, 1.0, 4)
        job.result(60)
        busy = len(beats) - idle
        assert busy >= 10, busy
    finally:
        pool.shutdown()
