"""Grad-CAM speed: ``explorer.explain`` against a plain forward pass and pytorch-grad-cam's GradCAM.

One run, same model, layer and image: ``python benchmarks/cam_speed.py [--model efficientnet_lite0]``.
The timings interleave the three candidates and report medians, so load from other processes hits
all of them alike. Target (issue #31): explain <= 1.5x a forward pass and faster than pytorch-grad-cam. (The limit was
2.5x, which let a regression to 2.3-2.9x through: run this before every change to the attribution path.)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import explorer  # noqa: E402
from explorer.vision.images import load_image  # noqa: E402


LIMIT = 1.5  # explain / a no_grad forward of the same input


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="efficientnet_lite0")
    parser.add_argument("--layer", help="default: the model's Grad-CAM layer")
    parser.add_argument("--image", default="chelsea")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()

    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    model = explorer.load_pretrained(args.model)
    image = load_image(args.image)
    layer = args.layer or model.default_cam_layer
    x = model.transforms(image).unsqueeze(0).to(model.device)
    target = model.predict(image, 1)[0][0]
    module = model.module

    def forward():  # the baseline: a no_grad forward of the same input
        with torch.no_grad():
            module(x)

    def ours():
        explorer.explain(model, image, target=target, layer=layer)

    def theirs():  # the model's parameters are frozen; pytorch-grad-cam backpropagates through the input
        with model.lock, GradCAM(model=module, target_layers=[module.get_submodule(layer)]) as cam:
            cam(input_tensor=x.clone().requires_grad_(True), targets=[ClassifierOutputTarget(target)])

    def sync():
        if model.device.type == "cuda":
            torch.cuda.synchronize()

    candidates = {"forward pass": forward, "explorer.explain (Grad-CAM)": ours, "pytorch-grad-cam GradCAM": theirs}
    times = {name: [] for name in candidates}
    for fn in candidates.values():  # warm-up
        fn(), fn()
    for _ in range(args.repeats):
        for name, fn in candidates.items():
            sync()
            start = time.perf_counter()
            fn()
            sync()
            times[name].append(time.perf_counter() - start)

    medians = {name: statistics.median(values) for name, values in times.items()}
    base = medians["forward pass"]
    print(f"{args.model} on {model.device}, layer {layer}, image {args.image} {image.size[0]}x{image.size[1]} "
          f"-> input {tuple(x.shape[1:])}, torch threads {torch.get_num_threads()}, median of {args.repeats}")
    for name, value in medians.items():
        print(f"  {name:30s} {1000 * value:8.1f} ms  {value / base:5.2f}x forward")
    ratio = medians["explorer.explain (Grad-CAM)"] / base
    faster = medians["explorer.explain (Grad-CAM)"] < medians["pytorch-grad-cam GradCAM"]
    ok = ratio <= LIMIT and faster
    print(f"Grad-CAM / forward = {ratio:.2f} (limit {LIMIT}); faster than pytorch-grad-cam: {faster} -> "
          f"{'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
