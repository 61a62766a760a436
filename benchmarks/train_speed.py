"""Does the default DenseNet reach 95 % validation accuracy on digits within 2 minutes, and what
does training as a job cost the rest of the app?

Modes (one run prints all it measures, with the machine's load, since on a shared machine the
seconds are inflated by the other users):
- default: train the default of ``python -m explorer train`` (DenseNet-BC L=40 k=12, CIFAR stem,
  32x32 digits, ``DEFAULT_EPOCHS`` epochs) in this process; print accuracy and seconds per epoch.
  The target is for 2 CPU cores: ``--threads 2`` (and ``taskset -c 0,1`` on a larger machine).
- ``--job``: the same run as the Train page starts it: a job of the embedded pool, with the page's
  time budget (120 s), the threads and GPU the page asks for, and the live payload; prints the
  accuracy, the seconds, and the reporting overhead (seconds spent building and sending the
  payload, over the run's seconds; and the last payload's pickled size).
- ``--rerun``: the DenseNet page's rerun under AppTest (a growth-rate change each time), median
  of ``--reruns`` with no job running, then the same while a training job runs in the pool
  (interleaved rounds: idle, busy, idle, busy...): what one session's training costs another
  session's slider moves.
- ``--overhead``: memory-efficient mode's time against the standard one.

    .venv/bin/python benchmarks/train_speed.py --threads 2 [--device cuda] [--job] [--rerun] [--overhead]
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from explorer.training import default_config, digits_dataset, train  # noqa: E402
from explorer.training.loop import DEFAULT_EPOCHS  # noqa: E402

TARGET_ACCURACY = 0.95
TARGET_SECONDS = 120.0
PAGE_BUDGET = 120.0  # the Train page's default time budget


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


def in_process(args) -> bool:
    dataset = digits_dataset()
    print(dataset.describe(), flush=True)

    def progress(p):
        if p.history and p.history[-1]["epoch"] == p.epoch and p.step % max(p.total_steps // p.epochs, 1) == 0:
            h = p.history[-1]
            print(f"epoch {h['epoch']:2d}  val accuracy {h['val_accuracy']:.4f}  {h['seconds']:6.1f} s", flush=True)

    result = train(default_config(), dataset, epochs=args.epochs, device=args.device, progress=progress)
    for h in result.history:
        print(f"epoch {h['epoch']:2d}  train loss {h['train_loss']:.4f}  val accuracy {h['val_accuracy']:.4f}  "
              f"{h['seconds']:6.1f} s")
    ok = result.val_accuracy >= TARGET_ACCURACY and result.seconds <= TARGET_SECONDS
    print(f"in process: val_accuracy {result.val_accuracy:.4f} in {result.seconds:.1f} s on {result.device} "
          f"(target >= {TARGET_ACCURACY} within {TARGET_SECONDS:.0f} s): {'PASS' if ok else 'FAIL'}; {load()}")
    return ok


def submit_default(pool, budget: float | None, live: bool = True, threads: int = 0):
    from explorer.training import work

    threads = threads or work.training_threads() or pool.threads  # as the page asks
    config = default_config()
    gpu = pool.has_gpu()
    cost = work.train_cost(config, work.DIGITS_IMAGES, budget or 400.0, threads=threads, gpu=gpu)
    return pool.submit(work.train_model, (config, ("digits", 32), DEFAULT_EPOCHS, budget),
                       {"live": live, "gpu": gpu}, cost, None), threads


def as_job(args) -> bool:
    from explorer.jobs.pool import LocalPool

    pool = LocalPool()
    try:
        start = time.monotonic()
        job, threads = submit_default(pool, PAGE_BUDGET, threads=args.train_threads)
        last = None
        while not job.done():
            time.sleep(0.5)
            payload = job.progress().payload
            if payload is not None:
                last = payload
        result = job.result()
        wall = time.monotonic() - start
        for h in result["history"]:
            print(f"epoch {h['epoch']:2d}  val accuracy {h['val_accuracy']:.4f}  {h['seconds']:6.1f} s")
        ok = result["val_accuracy"] >= TARGET_ACCURACY and result["seconds"] <= TARGET_SECONDS
        print(f"as a job ({pool.size} workers, the job with {threads} threads, budget {PAGE_BUDGET:.0f} s): "
              f"val_accuracy {result['val_accuracy']:.4f} after {result['epochs']} epoch(s), stopped by "
              f"{result['stopped_by']}, {result['seconds']:.1f} s training on {result['device']}, {wall:.1f} s from "
              f"submit to result (worker start included): {'PASS' if ok else 'FAIL'}; {load()}")
        size = len(pickle.dumps(last)) if last is not None else 0
        print(f"reporting: {result['report_seconds'] * 1000:.1f} ms building and sending payloads over "
              f"{result['seconds']:.1f} s ({100 * result['report_seconds'] / result['seconds']:.3f} %); last payload "
              f"{size / 1024:.1f} KiB pickled ({len(last['step_losses']) if last else 0} step losses)")
        return ok
    finally:
        pool.shutdown()


def rerun_latency(args) -> None:
    from streamlit.testing.v1 import AppTest

    from explorer.jobs.pool import LocalPool

    app = AppTest.from_file(str(ROOT / "pages" / "densenet.py"), default_timeout=120).run()
    values = [12, 16, 20, 24, 28, 32]
    step = [0]

    def rerun() -> float:
        step[0] += 1
        app.session_state["growth_rate"] = values[step[0] % len(values)]  # a new config every time
        start = time.perf_counter()
        app.run()
        assert not app.exception
        return time.perf_counter() - start

    pool = LocalPool()
    try:
        while not all(w.ready for w in pool._workers + pool._spares):
            time.sleep(0.1)
        for _ in range(3):
            rerun()  # warm: imports, caches of these configs
        idle, busy = [], []
        job = None
        for _ in range(args.reruns):
            if job is not None:
                job.cancel()  # its worker is killed and replaced: wait until the new one has started
                while not job.done() or not all(w.ready for w in pool._workers + pool._spares):
                    time.sleep(0.1)
            idle.append(rerun())
            job, threads = submit_default(pool, None, threads=args.train_threads)
            while job.progress().payload is None:  # training has begun
                time.sleep(0.1)
            busy.append(rerun())
        job.cancel()
        print(f"DenseNet page rerun (AppTest, new growth rate each time), median of {args.reruns} interleaved: "
              f"{1000 * statistics.median(idle):.0f} ms with no job, {1000 * statistics.median(busy):.0f} ms while a "
              f"training job ({threads} threads) runs in the pool; ratio "
              f"{statistics.median(busy) / statistics.median(idle):.2f}; {load()}")
    finally:
        pool.shutdown()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS)
    parser.add_argument("--job", action="store_true", help="run the default as the Train page does: a job")
    parser.add_argument("--rerun", action="store_true", help="DenseNet page rerun latency while training")
    parser.add_argument("--reruns", type=int, default=7)
    parser.add_argument("--train-threads", type=int, default=0, help="the training job's threads (0: as the page)")
    parser.add_argument("--skip-in-process", action="store_true")
    parser.add_argument("--overhead", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}, "
          f"cpu affinity {len(os.sched_getaffinity(0))} cores, {load()}", flush=True)
    ok = True
    if not args.skip_in_process:
        ok = in_process(args) and ok
    if args.job:
        ok = as_job(args) and ok
    if args.rerun:
        rerun_latency(args)
    if args.overhead:
        from explorer.analysis.footprint import efficient_overhead

        o = efficient_overhead(default_config(), batch_size=64, repeats=7)
        print(f"memory-efficient forward+backward: {o['efficient_s']:.3f} s vs {o['standard_s']:.3f} s standard "
              f"(median of {o['repeats']} interleaved, batch {o['batch_size']}): {100 * o['overhead']:+.1f} % "
              f"(published: 15-20 %)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
