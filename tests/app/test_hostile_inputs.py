"""Hostile inputs other than images (those are in tests/unit/test_hostile_images.py): links, config files
and model files that anybody can hand the app, and what its messages say about them (issue #24).

Each table maps a case to what must happen: the value kept and shown as typed, or a piece of the
one-line refusal. Text from a user or a file reaches the screen through Markdown in many widgets
(captions, metrics, image captions, tables): it must arrive there escaped (``pages.ui.messages.literal``), so a
name like ``[Session expired - log in](https://evil.example/login)`` is shown, never followed.
"""

from __future__ import annotations

import csv
import io
import json
import re
import struct
import subprocess
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

from explorer import sharing
from explorer.errors import ConfigError
from tests.helpers.cli import explorer_command

ROOT = Path(__file__).resolve().parents[2]
PHISHING = "[Session expired - log in](https://evil.example/login)"
BEACON = "![x](https://evil.example/beacon.png)"
FORMULA = "=1+1+cmd|' /C calc'!A0"  # the CSV cell: Excel runs it as a command (DDE)
NESTED_JSON = "[" * 100_000 + "]" * 100_000  # 200 KB: under the 256 KiB cap of a config file


# --- links: a build in a Compare link is named like one added on a Build page -------------------

# build value in the link -> (the name kept, or None when the build is refused; a piece of the note)
LINK_CASES = {
    "phishing link": (f"{PHISHING}|densenet|k=2", PHISHING, None),
    "tracking image": (f"{BEACON}|densenet|k=2", BEACON, None),
    "html": ("<img src=https://evil.example/h.png>|densenet|k=2", "<img src=https://evil.example/h.png>", None),
    "bare addresses": ("www.evil.example me@evil.example|densenet|k=2", "www.evil.example me@evil.example", None),
    "formula": ("=1+1+cmd|densenet|k=2", "=1+1+cmd", None),
    "the issue's formula, with '|'": (f"{FORMULA}|densenet|k=2", None, "a build name cannot contain ',' or '|'"),
    "'|' in the name": ("mine|yours|densenet|k=2", None, "a build name cannot contain ',' or '|'"),
    "',' in the name": ("mine,yours|densenet|k=2", None, "a build name cannot contain ',' or '|'"),
    "empty name": ("  |densenet|k=2", None, "give the build a name"),
    "spaces collapsed": ("  my \t k24 |densenet|k=24", "my k24", None),
    "name cut at 60": ("x" * 70 + "|densenet|k=2", "x" * 60, None),
}


@pytest.mark.parametrize("case", LINK_CASES)
def test_link_build_names(case):
    text, kept, note = LINK_CASES[case]
    name, config, notes = sharing.build_from_text(text)
    if kept is None:
        assert config is None and len(notes) == 1 and note in notes[0] and "(ignored)" in notes[0]
    else:
        assert (name, config.growth_rate, notes) == (kept, int(text.rsplit("k=", 1)[1]), [])


@pytest.mark.parametrize("case", LINK_CASES)
def test_build_pages_follow_the_same_rule(case):
    """The Build pages' "Add to comparison" (``pages.add_to_comparison``) refuses what a link refuses."""
    import streamlit as st

    from pages.ui.build import add_to_comparison

    text, kept, note = LINK_CASES[case]
    typed = text.rsplit("|", 2)[0]
    st.session_state.clear()
    if kept is None:
        with pytest.raises(ConfigError, match=re.escape(note)):
            add_to_comparison(typed, "densenet121")
    else:
        assert add_to_comparison(typed, "densenet121") == kept
        assert list(st.session_state["comparison_builds"]) == [kept]
    st.session_state.clear()


# What every Markdown body that shows a hostile name must not hold: a live link, image or HTML tag,
# or a bare address that GitHub-flavoured Markdown turns into a link (escaping does not stop that).
LIVE = re.compile(r"(?<!\\)\]\(|(?<!\\)!(?<!\\)\[|(?<!\\)<(?!br>)|://|(?i:www)\.|@[\w-]")
CHART_TITLE = re.compile(r"^<div class='chart-title' style='[^'<>]*'>([^<]*)</div>$")  # pages.layout.chart_title


def live(body: str) -> bool:
    """Whether a Markdown body would render a link, an image or a tag. A chart's title is an HTML
    block (its text is not read as Markdown), inert when its text has no tag: html.escape'd."""
    return CHART_TITLE.match(body) is None and LIVE.search(body) is not None


def raw(name: str, body: str) -> bool:
    """Whether ``name`` stands unescaped in a Markdown body (a chart title's HTML block aside)."""
    return CHART_TITLE.match(body) is None and name in body


def markdown_bodies(at) -> list[str]:
    """The text of every element Streamlit renders as Markdown (a metric's value and an image's
    caption are Markdown too, and so are the cells of ``st.table``)."""
    bodies = [e.value for kind in ("markdown", "caption", "error", "warning", "info", "success", "subheader")
              for e in at.get(kind)]
    bodies += [m.proto.body for m in at.get("metric")] + [m.label for m in at.get("metric")]
    for table in at.get("table"):
        frame = getattr(table.value, "data", table.value)
        bodies += [v for v in frame.to_numpy().ravel() if isinstance(v, str)]
    bodies += [caption for image in at.get("image") for caption in image.captions]
    return bodies


def test_compare_link_shows_hostile_names_as_text():
    """The issue's link: a build named as a phishing link, one as a tracking image, one as HTML, one
    with bare addresses. Every place the page shows them (the table, "Which to choose", the notes)
    shows them as typed."""
    from pages.ui.messages import literal

    hostile = [PHISHING, BEACON, "<img src=https://evil.example/h.png>", "log in: www.evil.example or me@evil.example"]
    at = AppTest.from_file(str(ROOT / "pages" / "compare.py"), default_timeout=180)
    at.query_params.update({f"build{i}": f"{name}|densenet|k={i + 1}" for i, name in enumerate(hostile, 1)})
    at.query_params["models"] = "densenet121," + ",".join(hostile)
    at.run()
    assert not at.exception and not at.error and not at.warning
    assert set(at.session_state["comparison_builds"]) == set(hostile)
    bodies = markdown_bodies(at)
    shown = [b for b in bodies if "evil.example" in b]
    assert shown and not [b for b in shown if live(b)]
    assert not [b for b in bodies for name in hostile if raw(name, b)]  # never as raw Markdown
    advice = "\n".join(m.value for m in at.markdown if "Fewest parameters" in m.value)
    # k=2 has the fewest parameters of all: the line names the phishing build, escaped
    assert f"Fewest parameters: {literal(PHISHING)} (" in advice
    assert "\\[Session expired - log in\\](https\\:\u2060//evil.example/login)" in advice
    frame = getattr(at.table[0].value, "data", at.table[0].value)
    assert [literal(n) for n in hostile] == list(frame["model"])[:4]

    at.session_state["compare_view"] = "size"  # plotly reads HTML in its labels: <a href> would be a link
    at.run()
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    labels = [x for trace in spec["data"] for x in trace["x"]]
    assert "&lt;img src=https://evil.example/h.png&gt;" in labels and not any("<" in x for x in labels)


# --- CSV downloads: cells a spreadsheet would run as a formula start with an apostrophe -------------

CSV_CASES = {  # cell -> as written to the CSV
    FORMULA: "'" + FORMULA,
    "=1+1+cmd": "'=1+1+cmd",
    "+cmd": "'+cmd",
    "-2+3+cmd": "'-2+3+cmd",
    "@SUM(1+1)*cmd": "'@SUM(1+1)*cmd",
    "\tcmd": "'\tcmd",
    "\rcmd": "'\ncmd",  # a bare CR inside a cell would end the row: a line feed is quoted
    "a\r=cmd": "a\n=cmd",
    "-1.5": "-1.5",  # a number stays a number
    "densenet121": "densenet121",
    "a=b": "a=b",
}


@pytest.mark.parametrize("cell", CSV_CASES)
def test_csv_cells(cell):
    from explorer.analysis.compare import comparison_rows, rows_csv
    from explorer.vision.overlay import predictions_csv

    # the Compare table: a build named so (a session build: the UI forbids '|', a session could hold it)
    builds = {cell: {"arch": "densenet", "config": {"growth_rate": 2}}}
    if cell == "densenet121":
        builds = {}
    rows = comparison_rows([cell], 1, None, builds, "original")
    (_header, row) = list(csv.reader(io.StringIO(rows_csv(rows), newline="")))
    assert row[0] == CSV_CASES[cell]
    # Explain's predictions: a trained model's class names come from its file
    (_header, row) = list(csv.reader(io.StringIO(predictions_csv([(3, cell, 0.25)]), newline="")))
    assert row == ["1", "3", CSV_CASES[cell], "0.250000"]
    assert sharing.csv_cell(cell) == CSV_CASES[cell]  # the one rule every CSV download follows


# --- files: config JSON and the metadata of trained models (.safetensors) --------------------------

TINY = dict(growth_rate=2, block_config=(1, 1), num_init_features=4, stem="cifar", input_size=16, num_classes=10)


def model_file(classes=None, edit=None, header_edit=None) -> bytes:
    """A tiny DenseNet saved as the Train page saves it, its metadata changed by ``edit(meta)`` (or
    replaced by what ``edit`` returns, a str), its safetensors header by ``header_edit(header)``."""
    from explorer.models.densenet import DenseNet, DenseNetConfig
    from explorer.training.weights import save_model

    torch.manual_seed(0)
    config = DenseNetConfig(**TINY)
    data = save_model(DenseNet(config).state_dict(), config, classes or [str(d) for d in range(10)],
                      (0.1, 0.2, 0.3), (0.25, 0.25, 0.25), val_accuracy=0.5)
    (n,) = struct.unpack("<Q", data[:8])
    header, body = json.loads(data[8:8 + n]), data[8 + n:]
    if edit is not None:
        meta = json.loads(header["__metadata__"]["explorer"])
        changed = edit(meta)
        header["__metadata__"]["explorer"] = changed if isinstance(changed, str) else json.dumps(meta)
    raw = json.dumps(header).encode()
    if header_edit is not None:
        raw = header_edit(raw)
    return struct.pack("<Q", len(raw)) + raw + body


def _set(meta, **fields):
    meta.update(fields)


# case -> (the file, a piece of its one-line refusal)
MODEL_FILE_CASES = {
    "nested JSON in the header": (lambda: model_file(header_edit=lambda raw: raw[:-1] + b', "x": '
                                                     + NESTED_JSON.encode() + b"}"),
                                  "m.safetensors: not a safetensors file (unreadable header)"),
    "nested JSON in the metadata": (lambda: model_file(edit=lambda meta: NESTED_JSON),
                                    "m.safetensors: unreadable explorer metadata"),
    "metadata nested 40 deep": (lambda: model_file(edit=lambda meta: _set(meta, info=json.loads("[" * 40 + "]" * 40))),
                                "m.safetensors: unreadable explorer metadata"),
    "std 0": (lambda: model_file(edit=lambda meta: _set(meta, std=[0.25, 0, 0.25])),
              "m.safetensors: the normalisation's std (0.25, 0, 0.25) must be 3 numbers from 0.001 to 1000"),
    "negative std": (lambda: model_file(edit=lambda meta: _set(meta, std=[-1, -1, -1])), "normalisation's std"),
    "infinite std": (lambda: model_file(edit=lambda meta: _set(meta, std=[1e999, 1, 1])), "normalisation's std"),
    "NaN mean": (lambda: model_file(edit=lambda meta: _set(meta, mean=[float("nan"), 0.2, 0.3])),
                 "m.safetensors: the normalisation's mean (nan, 0.2, 0.3) must be 3 numbers from -1000 to 1000"),
    "two means": (lambda: model_file(edit=lambda meta: _set(meta, mean=[0.1, 0.2])),
                  "the normalisation needs 3 means and 3 stds (one per RGB channel); the metadata has 2 and 3"),
    "std as text": (lambda: model_file(edit=lambda meta: _set(meta, std="wide")), "unreadable explorer metadata"),
}


@pytest.mark.parametrize("case", MODEL_FILE_CASES)
def test_model_file_metadata_is_checked_on_upload(case):
    from explorer.training.weights import WeightsFileError
    from explorer.training.classifier import read_info, trained_classifier

    make, message = MODEL_FILE_CASES[case]
    data = make()
    for read in (read_info, trained_classifier):  # the page's header check, and the job's load
        with pytest.raises(WeightsFileError) as error:
            read(data, "m.safetensors")
        assert message in str(error.value) and "\n" not in str(error.value)


def test_model_file_info_is_plain():
    """What the pages show from a file's ``info``: text and finite numbers; an accuracy only as a
    fraction (the Train page shows 100 x val_accuracy as a percentage)."""
    from explorer.training.classifier import read_info

    data = model_file(edit=lambda meta: _set(meta, info={"val_accuracy": "high", "epochs": 3, "nested": {"a": 1},
                                                         "dataset": "d" * 500, "loss": float("nan")}))
    assert read_info(data).info == {"epochs": 3, "dataset": "d" * 100}
    for accuracy, kept in ((0.5, True), (1, True), (1.5, False), (-0.1, False), (True, False)):
        data = model_file(edit=lambda meta: _set(meta, info={"val_accuracy": accuracy}))
        assert ("val_accuracy" in read_info(data).info) is kept, accuracy


CONFIG_CASES = {  # file text -> a piece of the one-line refusal
    '{"architecture": "densenet", "config": ' + NESTED_JSON + "}": "not valid JSON (nested more than 32 levels deep)",
    NESTED_JSON: "not valid JSON (nested more than 32 levels deep)",
    '{"architecture": "densenet", "config": {"growth_rate": ' + "[" * 40 + "]" * 40 + "}}":
        "not valid JSON (nested more than 32 levels deep)",
    '{"architecture": "densenet", "config": {"growth_rate": 12}}': None,  # a good file still loads
}


@pytest.mark.parametrize("text", CONFIG_CASES, ids=["nested 100000", "bare nested", "nested 40", "good"])
def test_config_files(text):
    message = CONFIG_CASES[text]
    assert len(text.encode()) < sharing.MAX_CONFIG_FILE_BYTES
    if message is None:
        assert sharing.read_config_json(text.encode()).growth_rate == 12
        return
    with pytest.raises(ConfigError) as error:
        sharing.read_config_json(text.encode(), architecture="densenet")
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.slow
def test_cli_nested_json_is_one_line(tmp_path):
    """``profile --config`` and ``reuse`` read the same JSON: one line, no traceback."""
    config = tmp_path / "nested.json"
    config.write_text('{"architecture": "densenet", "config": ' + NESTED_JSON + "}")
    weights = tmp_path / "nested.safetensors"
    weights.write_bytes(model_file(edit=lambda meta: NESTED_JSON))
    commands = {"profile": ["profile", "--config", str(config)], "reuse": ["reuse", "--weights", str(weights)]}
    with ThreadPoolExecutor(2) as pool:
        done = dict(zip(commands, pool.map(lambda args: subprocess.run(
            explorer_command(*args), cwd=ROOT, capture_output=True, text=True, timeout=300), commands.values())))
    expected = {"profile": "not valid JSON (nested more than 32 levels deep)",
                "reuse": "nested.safetensors: unreadable explorer metadata"}
    for name, result in done.items():
        assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and expected[name] in lines[0], result.stderr


# --- the Explain page: names from files shown as text, bad files refused with one line -------------

HOSTILE_CLASSES = [f"[c{i}](https://evil.example/{i}) ![b](https://evil.example/{i}.png)" for i in range(10)]


def png(name: str = "digit-7.png") -> bytes:
    buffer = io.BytesIO()
    Image.open(ROOT / "assets" / "digits" / name).convert("RGB").save(buffer, "PNG")
    return buffer.getvalue()


def test_explain_shows_file_names_and_class_names_as_text():
    app = AppTest.from_file(str(ROOT / "pages" / "explain.py"), default_timeout=180)
    app.session_state["explain_model"] = "trained"
    app.session_state["explain_source"] = "upload"
    app.run()
    app.file_uploader(key="explain_safetensors").upload(f"{BEACON}.safetensors",
                                                        model_file(classes=HOSTILE_CLASSES)).run()
    app.file_uploader(key="explain_upload").upload(f"{PHISHING}.png", png()).run()
    assert not app.exception and not app.error
    bodies = markdown_bodies(app)
    shown = [b for b in bodies if "evil.example" in b]
    top = next(m for m in app.metric if m.label == "Top prediction").proto.body
    # the metric (class name), the image captions (file name, class name), the "Using ..." caption
    assert top in HOSTILE_CLASSES or any(top.startswith(rf"\[c{i}\]") for i in range(10))
    assert len(shown) >= 5 and not [b for b in shown if live(b)]
    assert not [b for b in bodies for name in [PHISHING, BEACON, *HOSTILE_CLASSES] if raw(name, b)]

    for case in ("nested JSON in the metadata", "std 0", "NaN mean"):
        make, message = MODEL_FILE_CASES[case]
        app.file_uploader(key="explain_safetensors").upload("m.safetensors", make()).run()
        assert not app.exception, case
        errors = [e.value for e in app.error]
        assert len(errors) == 1 and message in errors[0].replace("\\", ""), (case, errors)


def test_densenet_page_load_config_nested_json():
    """"Load a config" on DenseNet with a 200 KB nested file: one error line, no error page."""
    app = AppTest.from_file(str(ROOT / "pages" / "densenet.py"), default_timeout=180)
    app.run()
    app.session_state["build_tools"] = True
    app.run()
    app.file_uploader(key="upload_config").upload(
        "nested.json", ('{"architecture": "densenet", "config": ' + NESTED_JSON + "}").encode()).run()
    assert not app.exception
    assert [e.value for e in app.error] == ["nested.json: file: not valid JSON (nested more than 32 levels deep)"]


# --- the worker's model cache ------------------------------------------------------------------------

def test_worker_loads_more_models_than_its_cache_holds():
    """Every fifth distinct model used to fail: eviction unpacked (model, bytes) as a pair of pairs."""
    from explorer.jobs import worker

    saved = dict(worker._models), worker._models_bytes
    worker._models.clear()
    worker._models_bytes = 0
    try:
        made = []
        for i in range(2 * worker.MAX_MODELS + 1):
            assert worker.cached_model(("m", i), lambda i=i: made.append(i) or f"model {i}") == f"model {i}"
        assert made == list(range(2 * worker.MAX_MODELS + 1))
        assert list(worker._models) == [("m", i) for i in range(worker.MAX_MODELS + 1, 2 * worker.MAX_MODELS + 1)]
        assert worker._models_bytes == sum(added for _model, added in worker._models.values())
        assert worker.cached_model(("m", 2 * worker.MAX_MODELS), lambda: "again") == f"model {2 * worker.MAX_MODELS}"
    finally:
        worker._models.clear()
        worker._models.update(saved[0])
        worker._models_bytes = saved[1]


# --- messages that contradicted themselves --------------------------------------------------------------

def _refusal(fn) -> str:
    from explorer.errors import ExplorerError

    with pytest.raises(ExplorerError) as error:
        fn()
    return str(error.value)


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _lite0_one_missing() -> bytes:
    from explorer.vision.loading import read_state_dict
    from explorer.vision.weights import lite0_file

    state = read_state_dict("efficientnet_lite0", lite0_file())  # the package's file: 296 tensors
    state.pop(next(iter(state)))
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def _image_cases():
    from explorer.vision.images import Limits, decode_image

    strip = io.BytesIO()
    Image.new("RGB", (2001, 200)).save(strip, "PNG")
    return {
        # 2001/200 = 10.005: rounded, it read "(10:1); the limit is 10:1"
        "2001x200": (lambda: decode_image(strip.getvalue(), "strip.png"),
                     "strip.png: 2001x200 is too elongated (more than 10:1)"),
        # one byte over 1 MiB read "the file is 1.0 MiB; the limit is 1 MiB"
        "1 MiB + 1 byte": (lambda: decode_image(b"\0" * (2**20 + 1), "big.png", Limits(max_bytes=2**20)),
                           "big.png: the file is 1.1 MiB; the limit is 1 MiB"),
    }


MESSAGE_CASES = {
    **{f"image {k}": v for k, v in _image_cases().items()},
    # the CLI reads a weights file up to the limit + 1 byte: a 2 GiB file read "the file is 256 MiB"
    "weights file over the limit": (lambda: _over_limit("explorer.training.weights", "MAX_FILE_BYTES",
                                                        "explorer.training.weights:read_info", "m.safetensors"),
                                    "m.safetensors: the file is over the 1 MiB limit"),
    "zip over the limit": (lambda: _over_limit("explorer.training.data", "MAX_ZIP_BYTES",
                                               "explorer.training.data:zip_dataset", "d.zip"),
                           "d.zip: the zip is over the 1 MiB limit"),
    # one tensor missing from an EfficientNet-Lite0 file read "0 of 247 tensors match; ... 295 unexpected"
    "one tensor missing": (lambda: __import__("explorer.vision.loading", fromlist=["x"]).load_uploaded_weights(
        "efficientnet_lite0", _lite0_one_missing(), "lite.pth"),
        "efficientnet_lite0: lite.pth: expected 296 tensors, the file has 295"),
    # a Windows path in a zip read 'cls\\x.png' (repr doubles the backslash)
    "zip member with a backslash": (lambda: __import__("explorer.training.data", fromlist=["x"]).zip_dataset(
        _zip({"cls\\x.png": png()}), "d.zip"),
        "d.zip: refused: member 'cls\\x.png' has an absolute or Windows path"),
}


def _over_limit(module: str, constant: str, fn: str, name: str):
    import importlib

    from explorer.jobs.worker import resolve

    owner = importlib.import_module(module)
    limit = getattr(owner, constant)
    setattr(owner, constant, 2**20)
    try:
        return resolve(fn)(b"\0" * (2**20 + 1), name)
    finally:
        setattr(owner, constant, limit)


@pytest.mark.parametrize("case", MESSAGE_CASES)
def test_messages_agree_with_themselves(case):
    make, message = MESSAGE_CASES[case]
    assert _refusal(make) == message
