"""Walkthroughs, theory panels, figures and the glossary: numbers against torchvision's own
modules, torch's normalisation functions and the figures embedded from the papers."""

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode
from torchvision.models.densenet import DenseNet as TorchvisionDenseNet
from torchvision.models.densenet import _DenseLayer
from torchvision.models.googlenet import Inception as TorchvisionInception

import explorer
from explorer.i18n import translator
from explorer.models.densenet import PRESETS
from explorer.teach.figures import normalisation_figure, normalisation_groups
from explorer.teach.glossary import TERM_KEYS, TERMS
from explorer.teach.theory import PANEL_KEYS, PANELS, panel_example
from explorer.teach.walkthrough import densenet_walkthrough, inception_walkthrough

PAGES = {"densenet", "inception", "compare", "explain", "learn", "practice", "glossary"}


def torchvision_densenet(config):
    with torch.device("meta"):
        return TorchvisionDenseNet(growth_rate=config.growth_rate, block_config=config.block_config,
                                   num_init_features=config.num_init_features, bn_size=config.bn_size)


def test_densenet121_walkthrough_matches_the_paper_and_torchvision():
    config = PRESETS["densenet121"]
    model = torchvision_densenet(config)
    sizes = {1: 56, 2: 28, 3: 14, 4: 7}  # 224 px: stem /4, then each transition halves
    outs = {1: (256, 128), 2: (512, 256), 3: (1024, 512), 4: (1024, None)}  # paper Table 1 / seed text
    for block in range(1, 5):
        steps = densenet_walkthrough(config, block)
        grow, transition, bottleneck = (s.numbers for s in steps)
        dense_block = getattr(model.features, f"denseblock{block}")
        entering = [layer.norm1.num_features for layer in dense_block.values()]
        assert grow["entering"] == entering
        assert grow["size"] == sizes[block]
        assert (grow["block_out"], transition["transition_out"]) == outs[block]
        if block < 4:
            assert getattr(model.features, f"transition{block}").conv.out_channels == outs[block][1]
            assert transition["size_after"] == sizes[block + 1]
        last = list(dense_block.values())[-1]
        assert bottleneck["weights_with"] == last.conv1.weight.numel() + last.conv2.weight.numel()
        assert bottleneck["weights_without"] == nn.Conv2d(last.norm1.num_features, 32, 3, bias=False,
                                                          device="meta").weight.numel()
        assert all(s.figure is not None for s in steps[:1])
    assert "64 + 6 × 32 = 256" in densenet_walkthrough(config, 1)[0].text


def test_densenet_walkthrough_on_other_settings():
    config = explorer.DenseNetConfig(growth_rate=24, block_config=(3, 5), num_init_features=48, compression=0.7,
                                     stem="cifar", input_size=32)
    grow, transition, _b = (s.numbers for s in densenet_walkthrough(config, 1))
    assert grow["entering"] == [48, 72, 96] and grow["block_out"] == 120 and grow["size"] == 32
    assert transition["transition_out"] == 84 and transition["size_after"] == 16  # floor(0.7 * 120) = 84
    steps = densenet_walkthrough(config.replace(bottleneck=False), 2)
    assert steps[2].numbers["bottleneck_width"] is None
    assert steps[2].numbers["weights_without"] == 9 * (84 + 4 * 24) * 24
    assert densenet_walkthrough(config, 9)[0].numbers["block"] == 1  # out of range: the first block


def test_inception_walkthrough_googlenet_3a():
    config = explorer.InceptionModuleConfig()  # GoogLeNet 3a
    branches, concat, saving, whole = (s.numbers for s in inception_walkthrough(config))
    with torch.device("meta"):
        reference = TorchvisionInception(192, 64, 96, 128, 16, 32, 32, conv_block=None)
    outputs = [reference.branch1.conv.out_channels, reference.branch2[1].conv.out_channels,
               reference.branch3[1].conv.out_channels, reference.branch4[1].conv.out_channels]
    assert list(branches["branch_out"].values()) == outputs == [64, 128, 32, 32]
    assert concat["out_channels"] == 256
    assert (saving["weights_with"], saving["weights_without"]) == (15_872, 153_600)  # seed text
    assert whole["conv_weights"] == 163_328
    # MACs of the 5x5 branch with its reduction, measured.
    branch = nn.Sequential(nn.Conv2d(192, 16, 1, bias=False), nn.Conv2d(16, 32, 5, padding=2, bias=False))
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        branch(torch.zeros(1, 192, 28, 28))
    assert saving["macs_with"] == counter.get_total_flops() // 2 == 15_872 * 784
    off = inception_walkthrough(config.replace(reduction=False))
    assert off[1].numbers["out_channels"] == 64 + 128 + 32 + 192


def test_walkthrough_text_is_translated_with_the_same_numbers():
    ja = translator("ja").gettext
    en_steps = densenet_walkthrough(PRESETS["densenet121"], 2)
    ja_steps = densenet_walkthrough(PRESETS["densenet121"], 2, ja)
    assert [s.numbers for s in en_steps] == [s.numbers for s in ja_steps]
    assert "トランジション層" in ja_steps[1].text and "floor(0.5 × 512) = 256" in ja_steps[1].text
    assert "次元削減" in inception_walkthrough(explorer.InceptionModuleConfig(), ja)[2].text


def test_theory_examples_match_the_papers():
    assert panel_example("concat_vs_add") == ("DenseNet-121, block 1: 64 channels enter and 6 layers add 32 each, "
                                              "so 256 leave it.")
    assert "64, 88, 112, 136, 160, 184" in panel_example("growth_rate")
    # Block 3's last layer receives 256 + 23 * 32 = 992 channels: 992*128 + 9*128*32 vs 9*992*32.
    assert "992" in panel_example("bottleneck") and "163,840" in panel_example("bottleneck")
    assert "285,696" in panel_example("bottleneck")
    assert panel_example("compression").endswith("floor(0.7 × 256) = 179.")
    assert "densenet121: DenseNet-BC, L = 121" in panel_example("variants")
    assert "densenet-40-k12: DenseNet, L = 40" in panel_example("variants")
    assert "15,872" in panel_example("inception_module") and "153,600" in panel_example("inception_module")
    with torch.device("meta"):
        dense = nn.Conv2d(128, 128, 3, bias=False).weight.numel()
        grouped = nn.Conv2d(128, 128, 3, groups=32, bias=False).weight.numel()
        separable = (nn.Conv2d(32, 32, 3, groups=32, bias=False).weight.numel()
                     + nn.Conv2d(32, 64, 1, bias=False).weight.numel())
    assert f"{dense:,}" in panel_example("resnext") and f"{grouped:,}" in panel_example("resnext")
    assert f"{separable:,}" in panel_example("depthwise") and "18,432" in panel_example("depthwise")
    assert panel_example("auxiliary") is None


def test_panels_cover_the_issue_and_link_to_pages():
    assert set(PANEL_KEYS) >= {"concat_vs_add", "growth_rate", "bottleneck", "compression", "variants",
                               "inception_module", "auxiliary", "factorised", "resnext", "depthwise",
                               "normalisation"}
    for panel in PANELS:
        assert panel.page in PAGES and panel.formulas and panel.paragraphs
        assert all(key in TERM_KEYS for key in panel.terms)
    for term in TERMS:
        assert term.page in PAGES and term.en and term.ja and term.definition.endswith(".")
        if term.page == "learn":
            assert term.query.removeprefix("topic=") in PANEL_KEYS


def _by_groups(x, ids):
    """Normalise every (sample, channel) map with the statistics of all maps sharing its id."""
    out = torch.empty_like(x)
    ids = torch.tensor(ids)
    for group in ids.unique():
        mask = ids == group
        values = x[mask]  # (maps, H, W)
        out[mask] = (values - values.mean()) / torch.sqrt(values.var(unbiased=False) + 1e-5)
    return out


def test_normalisation_figure_groups_reproduce_torch():
    torch.manual_seed(0)
    n, c, groups = 4, 6, 2
    x = torch.randn(n, c, 5, 5)
    expected = {"batch": F.batch_norm(x, None, None, training=True), "layer": F.layer_norm(x, x.shape[1:]),
                "instance": F.instance_norm(x), "group": F.group_norm(x, groups)}
    for method, result in expected.items():
        assert torch.allclose(_by_groups(x, normalisation_groups(method, n, c, groups)), result, atol=1e-4), method
    fig = normalisation_figure(translator("ja").gettext)
    assert len(fig.layout.shapes) == 4 * 4 * 6
    assert "バッチ正規化" in fig.layout.annotations[0].text
