"""What a re-planned run of the default model reaches: validation accuracy of the default digits
run (DenseNet-BC L=40 k=12, CIFAR stem, batch 64, lr 0.1, one-cycle) trained for exactly N steps,
its schedule planned for N from the start, as a run re-planned for its time budget is after its
first few timed steps. Prints one line per run and the table that ``explorer/training/plan.py``
embeds as ``ACCURACY_BY_STEPS`` (lowest, median, highest over the seeds); also the steps/s seen.

Accuracy against steps does not depend on the machine's speed, only the steps/s do (the machine's
load is printed with them).

    .venv/bin/python benchmarks/train_plan.py --threads 2 --sizes 32 16 --seeds 0 1 2 | tee runs.log
    .venv/bin/python benchmarks/train_plan.py --from-log runs.log more-runs.log   # the table of several logs

(On a busy 2-core machine ``--threads 1`` is faster: two threads wait on each other's slices.)

``--job [--hog]``: the default run as the Train page starts it (a job of the pool, the page's
120 s budget), optionally with a busy loop at normal priority on every core while it runs; prints
the plan (steps/s measured at the start, planned epochs), the epochs run and the final accuracy.

    .venv/bin/python benchmarks/train_plan.py --job            # as quiet as the machine is
    .venv/bin/python benchmarks/train_plan.py --job --hog      # every core busy
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from explorer.training import default_config, digits_dataset, train  # noqa: E402
from explorer.training.loop import DEFAULT_EPOCHS  # noqa: E402

STEPS = (2, 4, 7, 12, 23, 46, 69, 115, 230)  # 23 steps are one epoch of the 1,438 training digits


def summarize(runs: list[dict]) -> dict[int, dict[int, tuple[float, float, float, int]]]:
    """size -> steps -> (lowest, median, highest accuracy in %, runs); a (size, steps, seed) measured
    twice counts once (its last run)."""
    last = {(r["size"], r["steps"], r["seed"]): 100 * r["val_accuracy"] for r in runs}
    table: dict[int, dict[int, list[float]]] = {}
    for (size, steps, _seed), accuracy in sorted(last.items()):
        table.setdefault(size, {}).setdefault(steps, []).append(accuracy)
    return {size: {steps: (round(min(a), 1), round(statistics.median(a), 1), round(max(a), 1), len(a))
                   for steps, a in sorted(rows.items())} for size, rows in table.items()}


def print_table(runs: list[dict]) -> None:
    for size, rows in summarize(runs).items():
        print(f"ACCURACY_BY_STEPS[{size}] = {{")
        for steps, row in rows.items():
            print(f"    {steps}: {row},")
        print("}")


PAGE_BUDGET = 120.0  # the Train page's default time budget
HOG = "import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end:\n    pass\n"


def as_job(hog: bool, budget: float) -> None:
    import subprocess

    from explorer.jobs.pool import LocalPool
    from explorer.training import work

    pool = LocalPool()
    hogs = []
    try:
        while not all(w.ready for w in pool._workers):
            time.sleep(0.2)
        if hog:  # each ends by itself after the budget and a margin, if this script is killed
            hogs = [subprocess.Popen([sys.executable, "-c", HOG.format(seconds=budget + 120)])
                    for _ in range(os.cpu_count() or 1)]
            time.sleep(1.0)
        config, gpu = default_config(), pool.has_gpu()
        cost = work.train_cost(config, work.DIGITS_IMAGES, budget, threads=work.training_threads(), gpu=gpu)
        job = pool.submit(work.train_model, (config, ("digits", 32), DEFAULT_EPOCHS, budget), {"gpu": gpu}, cost, None)
        result = job.result(budget + 300)
    finally:
        for h in hogs:
            h.kill()
            h.wait()
        pool.shutdown()
    plan, per_epoch = result["plan"], result["steps_per_epoch"]
    planned = (f"planned {plan['steps']} steps ({plan['steps'] / per_epoch:.2f} epochs) at "
               f"{1 / plan['seconds_per_step']:.3f} steps/s" if plan else "no plan (ended first)")
    print(f"as a job{' with a CPU hog on every core' if hog else ''}, budget {budget:.0f} s: {planned}; ran "
          f"{result['steps']} steps ({result['steps'] / per_epoch:.2f} epochs, "
          f"{result['steps'] / result['seconds']:.3f} steps/s overall) in {result['seconds']:.1f} s, stopped by {result['stopped_by']}; val accuracy "
          f"{result['val_accuracy']:.4f}; expected {plan and plan['expected']}; load {os.getloadavg()[0]:.1f}",
          flush=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sizes", type=int, nargs="+", default=[32])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, nargs="+", default=list(STEPS))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--from-log", nargs="+", help="print the table of these logs' runs (no training)")
    parser.add_argument("--job", action="store_true", help="the default run as the Train page starts it")
    parser.add_argument("--hog", action="store_true", help="with --job: a busy loop on every core meanwhile")
    parser.add_argument("--budget", type=float, default=PAGE_BUDGET)
    args = parser.parse_args()
    if args.job:
        as_job(args.hog, args.budget)
        return 0
    if args.from_log:
        runs = [json.loads(line) for name in args.from_log for line in Path(name).read_text().splitlines()
                if line.startswith("{")]
        print_table(runs)
        return 0
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, load {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores", flush=True)
    runs = []
    for size in args.sizes:
        data = digits_dataset(size=size)
        for steps in args.steps:
            for seed in args.seeds:
                start = time.perf_counter()
                result = train(default_config(10, size), data, epochs=DEFAULT_EPOCHS, device=args.device, seed=seed,
                               max_steps=steps)
                seconds = time.perf_counter() - start
                runs.append({"size": size, "steps": steps, "seed": seed, "val_accuracy": result.val_accuracy,
                             "seconds": round(seconds, 2), "steps_per_s": round(steps / seconds, 3),
                             "threads": args.threads, "load": round(os.getloadavg()[0], 1)})
                print(json.dumps(runs[-1]), flush=True)
    print_table(runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
