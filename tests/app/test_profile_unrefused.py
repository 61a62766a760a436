"""The analytic profile allocates nothing, so no memory budget refuses it, at any batch; a link that
asks for a config the model cannot have opens the nearest one that works and says so (issue #23).

The numbers are measured on torchvision's own models, never on the explorer's:

* DenseNet-121 has 7,978,856 parameters (``sum(p.numel())`` of ``torchvision.models.densenet121``).
* Autograd saves 130,695,936 bytes for backward at batch 1 (224 px) and 261,057,280 at batch 2
  (``saved_tensors_hooks``, unique storages, weights excluded: ``test_the_embedded_bytes_...``
  below). Everything saved is per image except BatchNorm's per-channel mean and inverse std,
  2 x 4 bytes x 41,824 channels = 334,592 bytes, so batch b saves 130,695,936 + (b - 1) x
  130,361,344: 33,372,838,656 bytes at the paper's batch 256 (31.1 GiB; Compare's 33.4 GB).
* GoogLeNet (torchvision, no aux heads): 48,229,120 bytes at batch 1, 48,170,880 more per image.
* The smallest inputs torchvision's models run at: densenet121 29 px (28 fails), googlenet 15 px.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer import sharing
from explorer.units import format_bytes
from tests.helpers.apptest import flat

PAGES = Path(__file__).resolve().parents[2] / "pages"

DENSENET121_PARAMS = 7_978_856
DENSENET121_SAVED = {1: 130_695_936, 2: 261_057_280}
DENSENET121_PER_IMAGE = DENSENET121_SAVED[2] - DENSENET121_SAVED[1]  # 130,361,344
DENSENET121_AT_256 = 33_372_838_656
GOOGLENET_SAVED = {1: 48_229_120, 2: 96_400_000}


def saved_bytes(model, shape) -> int:
    """Bytes of the unique storages autograd saves in one training forward (weights excluded):
    written here again, so that the check does not rest on the explorer's own helper."""
    import torch

    weights = {t.untyped_storage().data_ptr() for t in [*model.parameters(), *model.buffers()]}
    seen: dict[int, int] = {}

    def pack(t):
        storage = t.untyped_storage()
        if storage.data_ptr() not in weights:
            seen[storage.data_ptr()] = storage.nbytes()
        return t

    model.train()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(torch.randn(shape))
    return sum(seen.values())


def page(name: str, **query) -> AppTest:
    app = AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=120)
    app.query_params.update(query)
    return app.run()


def metric(app, label: str) -> str:
    return next(m.value for m in app.metric if m.label == label)


# --- the arithmetic is never refused ---------------------------------------------------------------

def test_the_embedded_numbers_add_up():
    assert DENSENET121_AT_256 == DENSENET121_SAVED[1] + 255 * DENSENET121_PER_IMAGE
    assert 2 * DENSENET121_SAVED[1] - DENSENET121_SAVED[2] == 2 * 4 * 41_824  # BN statistics, per batch


@pytest.mark.slow
def test_the_embedded_bytes_are_torchvisions():
    """Re-measures the module docstring's numbers on torchvision's models (about 15 s on 2 cores)."""
    import torch
    import torchvision

    torch.manual_seed(0)
    densenet = torchvision.models.densenet121()
    assert sum(p.numel() for p in densenet.parameters()) == DENSENET121_PARAMS
    channels = sum(m.num_features for m in densenet.modules() if isinstance(m, torch.nn.BatchNorm2d))
    assert channels == 41_824
    for batch, expected in DENSENET121_SAVED.items():
        assert saved_bytes(densenet, (batch, 3, 224, 224)) == expected
    googlenet = torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=False)
    for batch, expected in GOOGLENET_SAVED.items():
        assert saved_bytes(googlenet, (batch, 3, 224, 224)) == expected


def test_densenet121_parameters_are_torchvisions():
    import torch
    import torchvision

    with torch.device("meta"):  # the count only: nothing allocated
        model = torchvision.models.densenet121()
    assert sum(p.numel() for p in model.parameters()) == DENSENET121_PARAMS


def test_cli_profiles_densenet121_at_the_papers_batch(capsys):
    from explorer.cli.main import main

    # main's value is the exit status (test_cli runs the CLI as a subprocess for the rest)
    assert main(["profile", "densenet121", "--batch-size", "256"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and "batch 256" in out.splitlines()[0]
    assert f"params 7.98 M ({DENSENET121_PARAMS:,})" in out
    assert f"training activations {DENSENET121_AT_256 / 2**30:.1f} GiB" in out  # 31.1 GiB


def test_cli_json_gives_the_exact_bytes_at_the_largest_batch(capsys):
    from explorer.cli.main import main

    assert main(["profile", "densenet121", "--batch-size", "4096", "--format", "json"]) == 0
    totals = json.loads(capsys.readouterr().out)["totals"]
    assert totals["params"] == DENSENET121_PARAMS
    assert totals["activation_bytes"] == DENSENET121_SAVED[1] + 4095 * DENSENET121_PER_IMAGE


def test_densenet_page_shows_the_papers_batch():
    app = page("densenet", batch="256")
    assert not app.exception and not app.error and not app.warning
    assert metric(app, "Activations, batch 256") == format_bytes(DENSENET121_AT_256)
    assert flat(app.query_params) == {"batch": "256", "lang": "en"}


def test_googlenet_page_shows_batch_256():
    app = page("inception", view="googlenet", batch="256")
    assert not app.exception and not app.error and not app.warning
    assert metric(app, "Activations, batch 256") == format_bytes(
        GOOGLENET_SAVED[1] + 255 * (GOOGLENET_SAVED[2] - GOOGLENET_SAVED[1]))


def test_compare_rows_of_a_build_at_batch_256():
    from explorer.analysis import compare
    from explorer.models.densenet import PRESETS

    builds = {"mine": {"arch": "densenet", "config": PRESETS["densenet121"].to_dict()}}
    [row] = compare.comparison_rows(["mine"], batch_size=256, builds=builds)
    assert row.params == DENSENET121_PARAMS and row.activation_bytes == DENSENET121_AT_256


@pytest.mark.slow
def test_cross_check_still_runs_when_the_page_shows_a_huge_batch():
    """The cross-check runs at batch 1: its cost is that of batch 1, whatever batch the page shows
    (at batch 4096 DenseNet-40's profile needs ~72 GiB, which no job may use)."""
    app = AppTest.from_file(str(PAGES / "densenet.py"), default_timeout=120)
    app.session_state["build_tools"] = True  # the tools box, open
    app.run()
    app.selectbox(key="densenet_preset").set_value("densenet-40-k12").run()
    app.number_input(key="batch_size").set_value(4096).run()
    app.button(key="cross_check").click().run()
    assert not app.exception and not app.error
    table = next(d.value for d in app.dataframe if "counter" in d.value.columns).set_index("counter")["value"]
    assert table["sum(p.numel()) of the live model"] == 1_019_722  # as in test_densenet_page


# --- a link the model cannot have: the nearest config that works, one line, written back -----------

def _runs_on_meta(model_name: str, size: int) -> bool:
    import torch
    import torchvision

    with torch.device("meta"):
        model = getattr(torchvision.models, model_name)(**({"weights": None, "aux_logits": False,
                                                            "init_weights": False} if model_name == "googlenet"
                                                           else {})).eval()
        try:
            model(torch.empty(1, 3, size, size))
            return True
        except RuntimeError:  # "Output size is too small"
            return False


def test_the_nearest_sizes_are_the_smallest_torchvision_runs():
    assert not _runs_on_meta("densenet121", 28) and _runs_on_meta("densenet121", 29)
    assert not _runs_on_meta("googlenet", 14) and _runs_on_meta("googlenet", 15)


@pytest.mark.parametrize("query, field, expected, note", [
    ({"size": "8"}, "input_size", 29, "size=8 is refused (input_size: 8 px shrinks to nothing after transition 2"),
    ({"size": "1"}, "input_size", 29, "size=8 is refused"),  # clamped to 8 first, then moved
    # one transition keeps floor(theta x 2) channels: theta 0.5 is the smallest that keeps one
    ({"k": "1", "k0": "1", "blocks": "1,1", "theta": "0.05"}, "compression", 0.5, "theta=0.05 is refused"),
])
def test_from_query_moves_a_refused_number_to_the_nearest_accepted(query, field, expected, note):
    from explorer.models.densenet import PRESETS

    config, notes = sharing.from_query(query, PRESETS["densenet121"])
    assert getattr(config, field) == expected
    assert any(note in n and n.endswith(f"used {expected:g}") for n in notes), notes


def test_from_query_moves_a_multiplier_that_makes_a_width_too_large():
    """GoogLeNet's widest convs have 384 channels: 384 x 2.6679 rounds to 1024, the limit, and
    384 x 2.668 = 1024.5 rounds past it."""
    from explorer.models.googlenet import PRESETS

    config, notes = sharing.from_query({"net_mult": "4"}, PRESETS["googlenet"], prefix="net_")
    assert config.width_multiplier == 2.6679 and round(384 * 2.6679) == 1024 and 384 * 2.668 > 1024.5
    assert notes == ["net_mult=4 is refused (#3x3: must be an integer from 1 to 1024, got 1152): used 2.6679"]


def test_a_refused_link_opens_the_nearest_densenet_and_writes_it_back():
    app = page("densenet", size="8")
    assert not app.exception and not app.error
    assert len(app.warning) == 1 and "size=8 is refused" in app.warning[0].value
    assert "used 29" in app.warning[0].value and app.number_input(key="input_size").value == 29
    assert flat(app.query_params) == {"size": "29", "lang": "en"}
    app.run()  # the address it wrote is its own: no note again
    assert not app.warning and app.number_input(key="input_size").value == 29


def test_a_refused_link_opens_the_nearest_googlenet_and_writes_it_back():
    app = page("inception", view="googlenet", net_size="8", batch="99999")
    assert not app.exception and not app.error
    assert len(app.warning) == 1
    assert "net_size=8 is refused" in app.warning[0].value and "used 15" in app.warning[0].value
    assert "batch=99999 is above 4096: used 4096" in app.warning[0].value
    assert flat(app.query_params) == {"view": "googlenet", "net_size": "15", "batch": "4096", "lang": "en"}


def test_widgets_refused_before_anything_worked_show_the_preset_not_an_empty_page():
    app = AppTest.from_file(str(PAGES / "densenet.py"), default_timeout=120)
    app.session_state["input_size"] = 8
    app.run()
    assert not app.exception and len(app.error) == 1 and "use at least 29 px" in app.error[0].value
    assert [i.value for i in app.info] == ["Showing densenet121 instead."]
    assert metric(app, "Parameters") == "7.98 M"
    assert flat(app.query_params) == {"lang": "en"}  # the address holds what is shown


# --- Practice: never silently another seed ----------------------------------------------------------

def test_practice_says_which_seed_it_used_instead():
    app = page("practice", seed="-1")
    assert not app.exception
    assert [w.value for w in app.warning] == [
        "Some settings in the link were ignored or adjusted: seed=-1 is below 0: used 0"]
    assert "12 exercises, seed 0" in [c.value for c in app.caption]
    assert flat(app.query_params)["seed"] == "0"

    app = page("practice", seed="abc", count="500")
    shown = flat(app.query_params)
    assert shown["count"] == "30"
    assert app.warning[0].value == ("Some settings in the link were ignored or adjusted: seed: not a number "
                                    f"(ignored); seed: used {shown['seed']} instead; count=500 is above 30: used 30")
    assert f"30 exercises, seed {shown['seed']}" in [c.value for c in app.caption]
