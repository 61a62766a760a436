"""The texts that pages show, built by pure functions (issue #25: pages read as wiring)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from explorer.charts import explain
from explorer.i18n import translator


def status(state: str, size: int = 0, reason: str | None = None, file: str = "w.pth"):
    return SimpleNamespace(state=state, size_bytes=size, reason=reason, path=Path("/weights") / file)


def test_model_label_says_whether_the_weights_are_here():
    assert explain.model_label("DenseNet-121", status("ready")) == "DenseNet-121: ready"
    assert explain.model_label("DenseNet-121", status("download", 32_000_000)).startswith(
        "DenseNet-121: needs download (")
    assert explain.model_label("DenseNet-121", status("missing")) == "DenseNet-121: unavailable"


def test_status_note_is_one_plain_line_without_paths():
    level, text = explain.status_note("ResNet-50", status("download", 100_000_000, file="r50.pth"))
    assert level == "info" and "r50.pth" in text and "/weights" not in text
    assert explain.status_note("ResNet-50", status("missing", reason="download failed: 404")) == (
        "error", "ResNet-50: the last download of its weights failed (the details are in the server log).")
    assert explain.status_note("ResNet-50", status("missing", reason="corrupt file")) == (
        "error", "ResNet-50 is unavailable: corrupt file")


def test_timing_note_says_where_the_result_came_from():
    assert explain.timing_note("Grad-CAM", None, False, 1.0) == "Grad-CAM (the last good result)."
    assert "computed now by a worker (0.25 s" in explain.timing_note("Grad-CAM", 0.5, True, 0.25)
    assert "this session computed it before (that took 0.25 s)" in explain.timing_note("Grad-CAM", 0.01, False, 0.25)


def test_trained_note_adds_the_accuracy_only_when_recorded():
    info = SimpleNamespace(classes=("0", "1", "2"), input_size=32, info={"val_accuracy": 0.875})
    assert explain.trained_note("m.safetensors", info) == (
        "Using m.safetensors: 3 classes, 32×32 px input. Validation accuracy 87.5 %.")
    info.info = {"val_accuracy": "high"}
    assert explain.trained_note("m.safetensors", info) == "Using m.safetensors: 3 classes, 32×32 px input."


def test_probability_text_inside_and_below_the_top_5():
    predictions = [(281, "tabby", 0.5), (282, "tiger cat", 0.25)]
    assert explain.probability_text(predictions, 282, "p = ") == "p = 25.0 %"
    assert explain.probability_text(predictions, 7) == "below the top 5"
    japanese = translator("ja")
    assert explain.probability_text(predictions, 7, _=japanese) == japanese("below the top 5")


def test_branch_lines_add_up_to_the_module():
    from explorer.charts.inception import branch_lines
    from explorer.models.inception import InceptionModuleConfig, module_report

    module = InceptionModuleConfig()  # GoogLeNet's 3a
    report = module_report(module)
    lines = branch_lines(report, module.in_channels)
    assert len(lines) == len(report.branches) + 1
    assert lines[-1].startswith("Output: 64 + 128 + 32 + 32 = **256** channels")
    assert "with the 1×1 reduction vs" in lines[1]  # the 3×3 branch, with its reduction
    assert "in its 1×1 projection" in lines[3] and "all 192 input channels" in lines[3]
    plain = module_report(module.replace(reduction=False))
    assert "conv weights" in branch_lines(plain, module.in_channels)[0]


def test_why_text_names_the_saving_of_the_module_designed():
    from explorer.charts.inception import why_text
    from explorer.models.inception import InceptionModuleConfig

    text = why_text(InceptionModuleConfig())
    assert text.startswith("**The three roles of a 1×1 convolution**\n1. *Dimension reduction*")
    assert "In the module you designed, the 5×5 branch has" in text
    assert text.endswith("which the 2014 paper predates.")


def test_deltas_note_says_what_the_deltas_compare_against():
    from explorer.charts.inception import deltas_note

    assert deltas_note("googlenet", "same", 224) == \
        "Deltas are against googlenet at the same input size, stem and batch."
    assert "at its own input size (224 px) and stem" in deltas_note("googlenet", "own", 224)
