"""The command line: output formats, exit codes, one-line errors."""

import csv
import io
import json
import subprocess

import pytest

from explorer.cli.main import main
from tests.helpers.cli import explorer_command


def run(*args, env=None):
    """Run the CLI in a real subprocess, as a user would (``env``: its whole environment)."""
    return subprocess.run(explorer_command(*args), capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.slow
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


@pytest.mark.slow
def test_profile_table_is_for_people():
    result = run("profile", "densenet121")
    assert result.returncode == 0
    assert "7.98 M" in result.stdout and "2.83 GMACs" in result.stdout
    assert "denseblock1" in result.stdout and "256" in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize("args, message", [
    (["profile", "densenet121", "--growth-rate", "0"], "growth_rate: must be an integer from 1 to 128"),
    (["profile", "nope"], "unknown preset 'nope'"),
    (["profile", "densenet121", "--block-config", "6,x"], "comma-separated integers"),
    (["profile", "densenet121", "--compression", "1.5"], "compression: must be in (0, 1]"),
    (["profile", "densenet121", "--batch-size", "5000"], "batch_size: must be an integer from 1 to 4096, got 5000"),
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


# --- two languages ----------------------------------------------------------------------------------

def _numbers(text: str) -> list[str]:
    import re

    return re.findall(r"\d[\d,.]*(?: ?[kMGT]?(?:MACs|FLOPs|iB|B)\b| [kMGT]\b)?", text)


@pytest.mark.slow
def test_profile_in_japanese_has_the_same_numbers_as_in_english():
    english = run("profile", "densenet121", "--lang", "en")
    japanese = run("profile", "densenet121", "--lang", "ja")
    assert english.returncode == japanese.returncode == 0
    assert "パラメータ数 7.98 M（7,978,856）" in japanese.stdout  # torchvision: 7,978,856 parameters
    assert "積和演算数 2.83 GMACs（2,834,161,664）" in japanese.stdout
    assert "学習時の活性化メモリ" in japanese.stdout and "ブロック" in japanese.stdout
    assert "params" not in japanese.stdout and "training activations" not in japanese.stdout
    assert _numbers(japanese.stdout) == _numbers(english.stdout) and len(_numbers(english.stdout)) > 60


def test_japanese_table_columns_line_up_in_a_terminal():
    from explorer.cli.main import render_table, text_width

    lines = render_table(["ブロック", "パラメータ数"], [["stem", "9.54 k"], ["denseblock1", "335 k"]]).splitlines()
    assert len({text_width(line) for line in lines}) == 1  # every line as wide: CJK characters count twice
    assert text_width("成長率 k") == 8


@pytest.mark.slow
def test_language_follows_the_locale_and_lang_wins():
    import os

    env = {**os.environ, "LANG": "ja_JP.UTF-8", "LC_ALL": ""}
    japanese = run("module", env=env)
    assert japanese.returncode == 0 and "出力 256 チャネル" in japanese.stdout  # GoogLeNet 3a: 64+128+32+32
    english = run("module", "--lang", "en", env=env)
    assert "out 256 ch" in english.stdout and "conv weights 163,328" in english.stdout
    assert "畳み込みの重み 163,328" in japanese.stdout
    from explorer.cli.main import default_language

    assert default_language({"LC_ALL": "C", "LANG": "ja_JP.UTF-8"}) == "en"  # LC_ALL wins, as in POSIX
    assert default_language({"LANG": "ja_JP.UTF-8"}) == "ja" and default_language({}) == "en"


def test_every_command_takes_lang():
    from explorer.cli.main import build_parser

    commands = build_parser()._subparsers._group_actions[0].choices
    assert len(commands) >= 9
    for name, command in commands.items():
        assert any("--lang" in action.option_strings for action in command._actions), name


@pytest.mark.slow
@pytest.mark.parametrize("args, message", [
    (["profile", "densenet121", "--growth-rate", "0"], "エラー：成長率 k が正しくありません：1 から 128 までの整数にしてください（指定値 0）"),
    (["profile", "densenet121", "--batch-size", "5000"], "バッチサイズ が正しくありません：1 から 4096 までの整数にしてください（指定値 5000）"),
    (["profile", "densenet121", "--input-size", "16"], "29 px 以上にするか、ブロックを減らしてください"),
    (["profile", "nope"], "不明なプリセット 'nope' です"),
    (["profile", "densenet121", "--growth-rate", "x"], "エラー：引数 --growth-rate：'x' は int 型の値として正しくありません"),
    (["profile", "densenet121", "--format", "xml"], "'xml' は選べません"),
    (["profile"], "プリセット名か --config FILE.json のどちらか一方"),
    (["module", "--widths", "0,96,128,16,32,32"], "#1x1 が正しくありません：1 から 1024 までの整数にしてください（指定値 0）。幅 0 の分岐は出力がなくなります"),
])
def test_errors_in_japanese_are_one_line_with_exit_2(args, message):
    result = run(*args, "--lang", "ja")
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert message in lines[0], lines[0]


@pytest.mark.slow
def test_json_output_is_the_same_in_both_languages():
    english = run("profile", "densenet121", "--format", "json", "--lang", "en")
    japanese = run("profile", "densenet121", "--format", "json", "--lang", "ja")
    assert english.stdout == japanese.stdout and json.loads(japanese.stdout)["totals"]["params"] == 7_978_856


@pytest.mark.slow
def test_help_in_japanese():
    result = run("profile", "--help", "--lang", "ja")
    assert result.returncode == 0
    assert "プリセット名（`presets` で一覧）" in result.stdout and "テキスト出力とエラーの言語" in result.stdout
    assert "a preset name" in run("profile", "--help", "--lang", "en").stdout


@pytest.mark.slow
def test_presets_and_worksheet_errors_in_japanese():
    presets = run("presets", "--lang", "ja")
    assert presets.returncode == 0
    assert "densenet121          ImageNet、k=32、ブロック 6-12-24-16" in presets.stdout  # names stay, words change
    assert [line.split()[0] for line in presets.stdout.splitlines()] == \
        [line.split()[0] for line in run("presets").stdout.splitlines()]
    bad = run("exercises", "--count", "0", "--lang", "ja")
    assert bad.returncode == 2 and bad.stderr.strip() == "エラー：問題数は 1 から 100 までの整数にしてください（指定値 0）"
