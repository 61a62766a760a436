"""Explain page: what one view costs the server and the browser, measured in one run.

    python benchmarks/explain_speed.py

Prints, for the offline EfficientNet-Lite0 on the samples: the page's first view (decode + a
Grad-CAM job in a worker, the model loaded there), a rerun that only moves the opacity slider (no
job: this session's result), a rerun with a new method (one job), each as the "Time for this view"
metric shows it and as the whole AppTest run; and the overlay's bytes as the page sends it (JPEG)
against the lossless PNG the download gives.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from explorer.vision import work  # noqa: E402
from explorer.vision.images import load_sample  # noqa: E402
from explorer.vision.overlay import jpeg_bytes, overlay, png_bytes  # noqa: E402

PAGE = str(ROOT / "pages" / "explain.py")


def timed(run) -> tuple[float, str]:
    start = time.perf_counter()
    app = run()
    seconds = time.perf_counter() - start
    shown = next(m.value for m in app.metric if m.label == "Time for this view")
    return seconds, shown


def main() -> None:
    for sample in ("chelsea", "coffee"):
        image = load_sample(sample)
        result = work.explain_pretrained(image, "efficientnet_lite0", "gradcam", None, None)
        drawn = overlay(image, result.heatmap, 0.5, "jet", result.region)
        png, jpeg = len(png_bytes(drawn)), len(jpeg_bytes(drawn))
        print(f"overlay {sample} {image.width}x{image.height}: PNG {png:,} B, JPEG {jpeg:,} B "
              f"({png / jpeg:.1f}x smaller)")

    app = AppTest.from_file(PAGE, default_timeout=300)
    app.session_state["explain_model"] = "efficientnet_lite0"
    first = timed(app.run)
    alphas = [timed(lambda a=a: app.slider(key="explain_alpha").set_value(a).run()) for a in (0.6, 0.7, 0.8, 0.9)]
    method = timed(lambda: app.selectbox(key="explain_method").set_value("guided_gradcam").run())
    print(f"first view (a new session: Grad-CAM job, model loaded in a worker): run {first[0]:.2f} s, "
          f"metric {first[1]}")
    print(f"opacity rerun (no job), median of 4: run {statistics.median(s for s, _ in alphas):.2f} s, "
          f"metric {[m for _, m in alphas]}")
    print(f"new method (Guided Grad-CAM job): run {method[0]:.2f} s, metric {method[1]}")


if __name__ == "__main__":
    main()
