"""Does the default DenseNet reach 95 % validation accuracy on digits within 2 minutes?

Trains the default of ``python -m explorer train`` (DenseNet-BC L=40 k=12, CIFAR stem, 32x32
digits, ``DEFAULT_EPOCHS`` epochs) and prints accuracy and seconds per epoch, then the verdict.
The target is for 2 CPU cores: run it with ``--threads 2`` (and ``taskset -c 0,1`` where the
machine has more). On a shared machine the seconds are inflated by the other users' load: say
so when quoting them. ``--overhead`` also times memory-efficient mode against the standard one.

    .venv/bin/python benchmarks/train_speed.py --threads 2 [--device cuda] [--overhead]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from explorer.training import default_config, digits_dataset, train  # noqa: E402
from explorer.training.loop import DEFAULT_EPOCHS  # noqa: E402

TARGET_ACCURACY = 0.95
TARGET_SECONDS = 120.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS)
    parser.add_argument("--overhead", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}, "
          f"cpu affinity {len(os.sched_getaffinity(0))} cores, load {os.getloadavg()[0]:.1f}", flush=True)
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
    print(f"val_accuracy {result.val_accuracy:.4f} in {result.seconds:.1f} s on {result.device} "
          f"(target >= {TARGET_ACCURACY} within {TARGET_SECONDS:.0f} s): {'PASS' if ok else 'FAIL'}")
    if args.overhead:
        from explorer.analysis.footprint import efficient_overhead

        o = efficient_overhead(default_config(), batch_size=64, repeats=7)
        print(f"memory-efficient forward+backward: {o['efficient_s']:.3f} s vs {o['standard_s']:.3f} s standard "
              f"(median of {o['repeats']} interleaved, batch {o['batch_size']}): {100 * o['overhead']:+.1f} % "
              f"(published: 15-20 %)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
