"""Theory panels: short explanations of the ideas the explorer shows live, as pure content.

A panel is English source text (catalog messages marked with ``N_``), formulas in LaTeX (the same
in every language but for the words in their ``\\text{…}``: ``formula_text``), a worked example
whose numbers are computed by the project's engine (never typed: ``panel_example``), the glossary
terms it uses and the page where the idea can be seen live.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from ..i18n import N_

# The words written inside the formulas' \text{…}, translated where a formula is drawn (names such
# as "ResNet: " and "vs" are the same in every language).
FORMULA_WORDS = (N_("weights"), N_("blocks"), N_("(with bottleneck)"), N_("pool proj"))
_TEXT = re.compile(r"\\text\{([^{}]*)\}")


def formula_text(latex: str, _) -> str:
    """A formula with the words of ``FORMULA_WORDS`` inside its ``\\text{…}`` in the reader's language."""
    return _TEXT.sub(lambda m: "\\text{" + (_(m[1]) if m[1] in FORMULA_WORDS else m[1]) + "}", latex)


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    paragraphs: tuple[str, ...]
    formulas: tuple[str, ...]  # LaTeX
    page: str  # url path of the page where it is seen live
    query: str  # query string that opens that page with the right settings
    link_label: str
    terms: tuple[str, ...]  # glossary keys
    figure: str | None = None  # name of a figure in ``explorer.teach.figures``

    @property
    def link(self) -> str:
        return f"{self.page}?{self.query}" if self.query else self.page


PANELS: tuple[Panel, ...] = (
    Panel(
        "concat_vs_add", N_("Concatenation (DenseNet) vs addition (ResNet)"),
        (N_("ResNet adds a block's input to its output, so the number of channels stays the same. DenseNet "
            "concatenates instead: every layer of a dense block receives the feature maps of all the layers "
            "before it, stacked along the channel axis."),
         N_("Because each layer appends k new channels and keeps all the old ones, the channels grow linearly "
            "inside a block. Features are reused rather than recomputed, which is why DenseNets need fewer "
            "parameters for the same accuracy.")),
        (r"\text{ResNet: } x_{l} = F_l(x_{l-1}) + x_{l-1}",
         r"\text{DenseNet: } x_{l} = H_l([x_0, x_1, \ldots, x_{l-1}])"),
        "densenet", "preset=densenet121", N_("See the channels grow on the DenseNet page"),
        ("concatenation", "residual", "dense_block")),
    Panel(
        "growth_rate", N_("Growth rate k"),
        (N_("Each layer of a dense block produces k feature maps. If k0 channels enter the block, layer l "
            "receives k0 + k(l − 1) channels, and a block of n layers outputs k0 + n·k."),
         N_("A small k (12 to 48 in the paper) is enough, because every layer can read the collective "
            "knowledge of the block.")),
        (r"c_{\mathrm{in}}(l) = k_0 + k\,(l-1)", r"c_{\mathrm{out}} = k_0 + n\,k"),
        "densenet", "preset=densenet121&k=24", N_("Change k on the DenseNet page"),
        ("growth_rate", "dense_block")),
    Panel(
        "bottleneck", N_("Bottleneck layers (DenseNet-B)"),
        (N_("Late layers of a block receive many channels. A 1×1 convolution first reduces them to 4k "
            "channels, and only then does the 3×3 convolution produce the k new channels."),
         N_("The 3×3 convolution then always costs 9·4k·k weights, however many channels enter the layer.")),
        (r"c_{\mathrm{in}} \xrightarrow{1\times1} 4k \xrightarrow{3\times3} k",
         r"\text{weights} = c_{\mathrm{in}}\cdot 4k + 9\cdot 4k\cdot k \quad\text{vs}\quad 9\cdot c_{\mathrm{in}}\cdot k"),
        "densenet", "preset=densenet121", N_("Toggle the bottleneck on the DenseNet page"),
        ("bottleneck", "conv1x1")),
    Panel(
        "compression", N_("Compression θ (DenseNet-C)"),
        (N_("A transition layer between two dense blocks keeps floor(θ·m) of the m channels it receives and "
            "halves the height and width with 2×2 average pooling."),
         N_("θ = 1 keeps every channel; θ = 0.5, as in DenseNet-BC, halves them, which keeps the next block "
            "small.")),
        (r"c_{\mathrm{out}} = \lfloor \theta\, m \rfloor,\quad H \to \lfloor H/2 \rfloor",),
        "densenet", "preset=densenet121&theta=0.7", N_("Change θ on the DenseNet page"),
        ("compression", "transition")),
    Panel(
        "variants", N_("DenseNet-B, -C and -BC"),
        (N_("The paper names its variants by what they add: B for bottleneck layers, C for compression "
            "(θ < 1), and BC for both. The ImageNet models DenseNet-121, -169, -201 and -161 are all "
            "DenseNet-BC."),
         N_("The number in the name is the depth L: the convolution and linear layers with weights.")),
        (r"L = 1 + 2\sum_b n_b + (\#\text{blocks} - 1) + 1 \quad\text{(with bottleneck)}",),
        "densenet", "preset=densenet121", N_("See the variant's name on the DenseNet page"),
        ("densenet_bc", "bottleneck", "compression")),
    Panel(
        "inception_module", N_("The Inception module and the three roles of 1×1 convolutions"),
        (N_("An Inception module runs 1×1, 3×3 and 5×5 convolutions and a 3×3 max pooling side by side on "
            "the same input and concatenates their outputs, so the next layer sees features of several "
            "scales at once."),
         N_("The 1×1 convolutions play three roles: they reduce the channels before the expensive 3×3 and "
            "5×5 convolutions (dimensionality reduction), they project the pooling branch to a chosen width, "
            "and, followed by ReLU, they add non-linearity at almost no cost.")),
        (r"c_{\mathrm{out}} = \#1{\times}1 + \#3{\times}3 + \#5{\times}5 + \#\text{pool proj}",),
        "inception", "in_channels=192&widths=64,96,128,16,32,32&size=28",
        N_("Design a module on the Inception page"), ("inception_module", "conv1x1", "dimension_reduction")),
    Panel(
        "auxiliary", N_("Auxiliary classifiers"),
        (N_("GoogLeNet attaches two small classifiers to intermediate modules (4a and 4d). During training "
            "their losses, weighted by 0.3, are added to the main loss, which sends gradient into the middle "
            "of the deep network and regularises it."),
         N_("At inference they are removed: torchvision's pretrained GoogLeNet ships without them.")),
        (r"\mathcal{L} = \mathcal{L}_{\mathrm{main}} + 0.3\,(\mathcal{L}_{\mathrm{aux1}} + \mathcal{L}_{\mathrm{aux2}})",),
        "inception", "", N_("Switch the aux classifiers on the Inception page"), ("aux_classifier",)),
    Panel(
        "factorised", N_("Factorised convolutions (Inception v3)"),
        (N_("Inception v3 replaces large kernels with cheaper stacks that see the same region: a 5×5 "
            "convolution becomes two 3×3 convolutions, and an n×n convolution becomes a 1×n followed by an "
            "n×1."),
         N_("With C channels in and out, two 3×3 convolutions need 18·C² weights instead of 25·C², and a 1×7 "
            "plus a 7×1 need 14·C² instead of 49·C².")),
        (r"2\cdot 3^2 C^2 = 18C^2 < 25C^2", r"(1\cdot n + n\cdot 1)\,C^2 = 2nC^2 < n^2C^2"),
        "inception", "in_channels=192&widths=64,96,128,16,32,32&size=28",
        N_("Try the factorisation options on the Inception page"), ("factorised", "receptive_field")),
    Panel(
        "resnext", N_("ResNeXt: cardinality and grouped 3×3 convolutions"),
        (N_("ResNeXt splits the 3×3 convolution of a bottleneck block into C parallel paths of the same "
            "shape. C is the cardinality; the paths are one grouped convolution with C groups."),
         N_("ResNeXt-50 32x4d means cardinality 32 with 4 channels per path in the first stage: a 128-channel "
            "grouped 3×3 convolution whose weights are 32 times fewer than a dense one.")),
        (r"\text{weights} = \frac{3\cdot 3\cdot c_{\mathrm{in}}\cdot c_{\mathrm{out}}}{G}",),
        "compare", "", N_("Compare ResNeXt-50 with the others on the Compare page"),
        ("cardinality", "grouped_conv")),
    Panel(
        "depthwise", N_("Depthwise separable convolutions"),
        (N_("A standard convolution filters space and mixes channels at once. A depthwise separable "
            "convolution does it in two steps: a depthwise D_K×D_K convolution filters each of the M input "
            "channels on its own, then a pointwise 1×1 convolution mixes them into N outputs."),
         N_("The parameters drop from D_K·D_K·M·N to D_K·D_K·M + M·N, that is by a factor of "
            "1/N + 1/D_K² (MobileNet).")),
        (r"D_K^2 M N \;\to\; D_K^2 M + M N", r"\frac{D_K^2 M + M N}{D_K^2 M N} = \frac{1}{N} + \frac{1}{D_K^2}"),
        "compare", "", N_("Compare MobileNetV2 and EfficientNet-B0 on the Compare page"),
        ("depthwise", "pointwise", "depthwise_separable")),
    Panel(
        "normalisation", N_("BatchNorm, LayerNorm, InstanceNorm and GroupNorm"),
        (N_("All four subtract a mean and divide by a standard deviation; they differ in which values of the "
            "N×C×H×W tensor share those statistics."),
         N_("BatchNorm: each channel over the batch and positions (N, H, W). LayerNorm: each sample over its "
            "channels and positions (C, H, W). InstanceNorm: each channel of each sample (H, W). GroupNorm: "
            "each group of channels of each sample (C/G, H, W), which does not depend on the batch size.")),
        (r"\hat{x} = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}}",),
        "practice", "kinds=norm_axes", N_("Practise the axes on the Practice page"),
        ("batch_norm", "layer_norm", "instance_norm", "group_norm"), figure="normalisation"),
)

PANEL_KEYS = {panel.key: panel for panel in PANELS}


# --- worked examples: numbers from the engine, never typed -------------------------------------

def _example_concat(_) -> str:
    from ..models.registry import profile

    blocks = [b for b in profile("densenet121").blocks if b.kind == "denseblock"]
    first = blocks[0]
    return _("DenseNet-121, block 1: {k0} channels enter and {n} layers add {k} each, so {out} leave it.").format(
        k0=first.in_channels, n=first.layers, k=(first.out_channels - first.in_channels) // first.layers,
        out=first.out_channels)


def _example_growth(_) -> str:
    from ..models.densenet import DenseNetConfig, densenet_plan

    plan = densenet_plan(DenseNetConfig(growth_rate=24))
    entering = [layer.in_channels for layer in plan.blocks[0]]
    return _("With k = 24 the layers of DenseNet-121's first block receive {channels} channels.").format(
        channels=", ".join(map(str, entering)))


def _example_bottleneck(_) -> str:
    from ..models.densenet import DenseNetConfig, densenet_plan

    last = densenet_plan(DenseNetConfig()).blocks[2][-1]  # DenseNet-121, block 3, layer 24
    with_b = last.conv1.kernel_weights + last.conv2.kernel_weights
    without = 9 * last.in_channels * 32
    return _("DenseNet-121, last layer of block 3: {c} channels in; conv weights {with_b} with the bottleneck, "
             "{without} without it.").format(c=last.in_channels, with_b=f"{with_b:,}", without=f"{without:,}")


def _example_compression(_) -> str:
    from ..models.densenet import DenseNetConfig, densenet_plan

    plan = densenet_plan(DenseNetConfig(compression=0.7))
    m, out = plan.block_out_channels[0], plan.transitions[0].conv.out_channels
    return _("After DenseNet-121's first block (m = {m}) with θ = 0.7: floor(0.7 × {m}) = {out}.").format(m=m, out=out)


def _example_variants(_) -> str:
    from ..models.densenet import PRESETS

    names = ["densenet121", "densenet-40-k12", "densenet-bc-100-k12"]
    parts = [f"{name}: {PRESETS[name].variant}, L = {PRESETS[name].depth}" for name in names]
    return "; ".join(parts)


def _example_inception(_) -> str:
    from ..models.inception import InceptionModuleConfig, module_report

    report = module_report(InceptionModuleConfig())
    five = next(b for b in report.branches if b.name == "5x5")
    return _("GoogLeNet 3a: {c} channels in, {out} out; its 5×5 branch has {with_r} conv weights with the 1×1 "
             "reduction and {without} without it.").format(
        c=report.in_channels, out=report.out_channels, with_r=f"{five.conv_weight_params:,}",
        without=f"{five.naive_conv_weight_params:,}")


def _example_factorised(_) -> str:
    c = 192
    return _("With C = {c}: {stacked} weights for two 3×3 convolutions against {single} for one 5×5.").format(
        c=c, stacked=f"{18 * c * c:,}", single=f"{25 * c * c:,}")


def _example_resnext(_) -> str:
    width, groups = 128, 32
    return _("A 128-channel 3×3 convolution: {dense} weights; with 32 groups: {grouped}.").format(
        dense=f"{9 * width * width:,}", grouped=f"{9 * width * width // groups:,}")


def _example_depthwise(_) -> str:
    k, m, n = 3, 32, 64
    return _("D_K = {k}, M = {m}, N = {n}: {standard} weights for a standard convolution, {separable} for a "
             "depthwise separable one.").format(k=k, m=m, n=n, standard=f"{k * k * m * n:,}",
                                                separable=f"{k * k * m + m * n:,}")


EXAMPLES: dict[str, Callable] = {
    "concat_vs_add": _example_concat, "growth_rate": _example_growth, "bottleneck": _example_bottleneck,
    "compression": _example_compression, "variants": _example_variants, "inception_module": _example_inception,
    "factorised": _example_factorised, "resnext": _example_resnext, "depthwise": _example_depthwise,
}


def panel_example(key: str, _=str) -> str | None:
    """The panel's worked example in the reader's language, or None when it has none."""
    example = EXAMPLES.get(key)
    return example(_) if example else None

