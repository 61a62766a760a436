"""CLI: train (tiny, on a small zip), reuse, and profile's training memory totals."""

import json

import pytest

from explorer.cli.main import main
from tests.helpers.data import colour_zip


def _zip(tmp_path):
    return colour_zip(tmp_path / "colours.zip")


def test_train_json_then_reuse(tmp_path, capsys):
    out = tmp_path / "m.safetensors"
    assert main(["train", "--dataset", str(_zip(tmp_path)), "--depth", "10", "--growth-rate", "2", "--epochs", "2",
                 "--out", str(out), "--format", "json", "--quiet"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"val_accuracy", "epochs", "seconds", "device", "config"}
    assert data["epochs"] == 2 and data["config"]["block_config"] == [1, 1, 1]
    assert data["config"]["growth_rate"] == 2 and data["config"]["num_classes"] == 2
    assert main(["reuse", "--weights", str(out)]) == 0
    reuse = json.loads(capsys.readouterr().out)
    assert [b["name"] for b in reuse["blocks"]] == ["denseblock1", "denseblock2", "denseblock3"]
    assert reuse["blocks"][0]["sources"] == ["input", "denselayer1"]
    assert reuse["blocks"][0]["targets"] == ["denselayer1", "transition1"]
    assert reuse["blocks"][2]["targets"] == ["denselayer1", "classifier"]
    assert reuse["blocks"][0]["matrix"][0][1] is None
    assert main(["reuse", "--weights", str(out), "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "block,target,source,value"


@pytest.mark.parametrize("argv, message", [
    (["train", "--depth", "11", "--out", "m.safetensors"], "depth L must be 6n+4"),
    (["train", "--out", "m.pth"], "must end in .safetensors"),
    (["train", "--dataset", "nothing.txt", "--out", "m.safetensors"], "expected 'digits' or a .zip"),
    (["train", "--epochs", "0", "--out", "m.safetensors"], "must be positive"),
    (["reuse", "--weights", "missing.safetensors"], "No such file"),
    (["profile", "googlenet", "--optimizer", "adam"], "apply to DenseNet presets"),
])
def test_bad_input_exits_2_with_one_line(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_profile_totals_against_a_measured_step(capsys):
    from explorer.analysis.footprint import measure_training_step
    from explorer.models.densenet import PRESETS

    assert main(["profile", "densenet-40-k12", "--input-size", "16", "--batch-size", "2", "--optimizer", "adam",
                 "--format", "json"]) == 0
    totals = json.loads(capsys.readouterr().out)["totals"]
    measured = measure_training_step(PRESETS["densenet-40-k12"].replace(input_size=16), 2, "adam")
    assert abs(totals["training_bytes"] / measured - 1) <= 0.05
    assert 0 < totals["inference_bytes"] < totals["training_bytes"]


def test_profile_flags_a_config_that_cannot_train(capsys):
    assert main(["profile", "densenet121", "--input-size", "32", "--format", "json"]) == 0
    totals = json.loads(capsys.readouterr().out)["totals"]
    assert totals["training_bytes"] is None and "1x1 map at batch 1" in totals["cannot_train"]


def test_train_prints_the_plan_line(tmp_path, capsys):
    """As the Train page, the CLI says what its time budget allows once the first steps are timed:
    10 epochs of 1 step (6 training images of the zip's 8 at batch 64) fit in 60 s here."""
    import re

    out = tmp_path / "m.safetensors"
    assert main(["train", "--dataset", str(_zip(tmp_path)), "--depth", "10", "--growth-rate", "2", "--epochs", "10",
                 "--time-budget", "60", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert re.search(r"Planned from the speed measured now \([\d.]+ steps/s\): all 10 epochs fit in the 60 s time "
                     r"budget \(about \d+ s\)\.", err), err
