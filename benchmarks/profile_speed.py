"""How much faster is the analytic profile than tracing the model?

Prints, measured in one run on this machine, the time of `explorer.profile` against one
FlopCounterMode pass over the same network (ratios, not absolute times, are what to compare:
these machines are noisy). Target: the profile is at least 100x faster.

    .venv/bin/python benchmarks/profile_speed.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
import torchvision  # noqa: E402

import explorer  # noqa: E402
from benchmarks.timing import median_seconds  # noqa: E402
from explorer.analysis.measure import count_flops  # noqa: E402

TARGET = 100.0


def compare(label: str, profile_fn, flop_counter_fn, repeats: int = 5) -> bool:
    profile_time = median_seconds(profile_fn, repeats * 10)
    trace_time = median_seconds(flop_counter_fn, repeats)
    ratio = trace_time / profile_time
    verdict = "OK" if ratio >= TARGET else "TOO SLOW"
    print(f"{label:<28} profile {profile_time * 1e3:8.2f} ms   FlopCounterMode {trace_time * 1e3:8.1f} ms   "
          f"ratio {ratio:7.1f}x   (target >= {TARGET:.0f}x) {verdict}")
    return ratio >= TARGET


def densenet121() -> bool:
    reference = torchvision.models.densenet121()  # a real CPU model, as a user would trace it
    x = torch.randn(1, 3, 224, 224)
    return compare("densenet121 @224",
                   lambda: explorer.profile("densenet121"),
                   lambda: count_flops(reference, tuple(x.shape), device="cpu"))


def googlenet() -> bool:
    reference = torchvision.models.googlenet(aux_logits=False, init_weights=True)  # as a user would build it
    return compare("googlenet @224",
                   lambda: explorer.profile("googlenet"),
                   lambda: count_flops(reference, (1, 3, 224, 224), device="cpu"))


def inception_v3() -> bool:
    reference = torchvision.models.inception_v3(init_weights=True)
    return compare("inception_v3 @299",
                   lambda: explorer.profile("inception_v3"),
                   lambda: count_flops(reference, (1, 3, 299, 299), device="cpu"))


def meta_build() -> bool:
    """Building for analysis must be instant: the largest preset on the meta device."""
    seconds = median_seconds(lambda: explorer.build_model("densenet264"), 5)
    print(f"{'build densenet264 on meta':<28} {seconds * 1e3:8.1f} ms   (target < 1000 ms) "
          f"{'OK' if seconds < 1 else 'TOO SLOW'}")
    return seconds < 1


BENCHMARKS = [densenet121, googlenet, inception_v3, meta_build]


def main() -> int:
    torch.set_num_threads(max(1, torch.get_num_threads()))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    results = [bench() for bench in BENCHMARKS]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
