"""The command line: output formats, exit codes, one-line errors."""

import csv
import io
import json
import subprocess
import sys

import pytest

from explorer.cli.main import main


def run(*args):
    """Run the CLI in a real subprocess, as a user would."""
    return subprocess.run([sys.executable, "-m", "explorer", *args], capture_output=True, text=True, timeout=120)


def test_presets_lists_every_name():
    result = run("presets")
    assert result.returncode == 0
    names = [line.split()[0] for line in result.stdout.splitlines()]
    for name in ["densenet121", "densenet169", "densenet201", "densenet161", "densenet264", "densenet-40-k12",
                 "densenet-100-k12", "densenet-100-k24", "densenet-bc-100-k12", "densenet-bc-250-k24",
                 "densenet-bc-190-k40"]:
        assert name in names


def test_profile_json_matches_api(capsys):
    assert main(["profile", "densenet121", "--format", "json", "--batch-size", "2"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["totals"]["params"] == 7_978_856 and data["totals"]["macs"] == 2_834_161_664
    assert data["totals"]["flops"] == 2 * 2_834_161_664 and data["batch_size"] == 2  # MACs per image
    assert data["preset"] == "densenet121" and data["arch"] == "densenet"
    import explorer
    from explorer.analysis.footprint import training_footprint

    expected = explorer.profile("densenet121", batch_size=2)
    footprint = training_footprint(expected)  # the CLI adds the whole-step memory (sgd, fp32)
    expected = expected.to_dict()
    expected["totals"].update(training_bytes=footprint.training_bytes, inference_bytes=footprint.inference_bytes)
    assert data == json.loads(json.dumps(expected))


def test_profile_overrides(capsys):
    assert main(["profile", "densenet121", "--growth-rate", "12", "--block-config", "6,12", "--compression", "0.7",
                 "--no-bottleneck", "--stem", "cifar", "--input-size", "33", "--num-classes", "10",
                 "--init-features", "16", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["preset"] is None
    assert data["config"]["block_config"] == [6, 12] and data["config"]["bottleneck"] is False
    blocks = {b["name"]: b for b in data["blocks"]}
    assert blocks["denseblock1"]["out_channels"] == 16 + 6 * 12  # 88
    assert blocks["transition1"]["out_channels"] == 61  # floor(0.7 * 88)
    assert data["input"] == [3, 33, 33] and data["layers"][-1]["out_channels"] == 10


def test_profile_memory_efficient_flag(capsys):
    main(["profile", "densenet121", "--format", "json"])
    plain = json.loads(capsys.readouterr().out)["totals"]["activation_bytes"]
    main(["profile", "densenet121", "--format", "json", "--memory-efficient"])
    efficient = json.loads(capsys.readouterr().out)["totals"]["activation_bytes"]
    assert efficient < plain


def test_profile_csv(capsys):
    assert main(["profile", "densenet-bc-100-k12", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert sum(int(r["params"]) for r in rows) == 769_162
    assert rows[0]["name"] == "input"


def test_profile_table_is_for_people():
    result = run("profile", "densenet121")
    assert result.returncode == 0
    assert "7.98 M" in result.stdout and "2.83 GMACs" in result.stdout
    assert "denseblock1" in result.stdout and "256" in result.stdout


@pytest.mark.parametrize("args, message", [
    (["profile", "densenet121", "--growth-rate", "0"], "growth_rate: must be an integer from 1 to 128"),
    (["profile", "nope"], "unknown preset 'nope'"),
    (["profile", "densenet121", "--block-config", "6,x"], "comma-separated integers"),
    (["profile", "densenet121", "--compression", "1.5"], "compression: must be in (0, 1]"),
    (["profile", "densenet121", "--batch-size", "512"], "reduce the batch size"),
    (["profile", "densenet121", "--input-size", "16"], "use at least 29 px"),
    (["profile", "densenet121", "--format", "xml"], "invalid choice"),
    (["profile"], "required"),
    (["frobnicate"], "invalid choice"),
])
def test_errors_are_one_line_with_exit_2(args, message):
    result = run(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert message in lines[0]
