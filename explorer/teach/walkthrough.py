"""Guided walkthroughs driven by the user's live config: pure functions returning steps.

Each step is text in the reader's language, the numbers it states (so tests and pages read the
same values) and an optional figure. Every number comes from the architecture's plan or the
profile engine, the same source as the Build pages' charts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import plotly.graph_objects as go

from ..charts.inception import branch_title
from ..models.densenet import DenseNetConfig, densenet_plan
from ..models.inception import InceptionModuleConfig, module_report
from ..models.registry import profile
from .figures import concatenation_figure, cost_bars, dense_block_figure


def _identity(message: str) -> str:
    return message


@dataclass
class Step:
    title: str
    text: str  # plain sentences with the numbers in them (safe as Markdown: generated, not user text)
    numbers: dict = field(default_factory=dict)
    figure: go.Figure | None = None


def densenet_walkthrough(config: DenseNetConfig, block: int = 1, _=_identity) -> list[Step]:
    """One dense block of ``config`` (1-based ``block``): the concatenation growing layer by layer,
    the transition after it and the bottleneck inside each layer."""
    plan = densenet_plan(config)
    if not 1 <= block <= len(plan.blocks):
        block = 1
    layers = plan.blocks[block - 1]
    k, k0, n = config.growth_rate, layers[0].in_channels, len(layers)
    entering = [layer.in_channels for layer in layers]
    m = plan.block_out_channels[block - 1]
    blocks = [b for b in profile(config).blocks if b.kind == "denseblock"]
    size = blocks[block - 1].height

    shown = ", ".join(map(str, entering if n <= 8 else entering[:4] + ["…"] + entering[-2:]))
    steps = [Step(
        _("1. The concatenation grows"),
        _("Dense block {b} starts with k0 = {k0} channels at {size}×{size}. Every layer adds k = {k} channels "
          "and passes on everything it received, so its {n} layers receive {shown} channels: "
          "k0 + k(l − 1). The block outputs k0 + n·k = {k0} + {n} × {k} = {m} channels.").format(
            b=block, k0=k0, size=size, k=k, n=n, shown=shown, m=m),
        {"block": block, "k0": k0, "k": k, "layers": n, "entering": entering, "block_out": m, "size": size},
        dense_block_figure(entering, k0, k, _))]

    if block <= len(plan.transitions):
        out = plan.transitions[block - 1].conv.out_channels
        theta = config.compression
        steps.append(Step(
            _("2. The transition layer"),
            _("After the block, a transition layer (BN, ReLU, 1×1 convolution, 2×2 average pooling) keeps "
              "floor(θ·m) = floor({theta} × {m}) = {out} channels and halves the size: {size}×{size} → "
              "{half}×{half}.").format(theta=theta, m=m, out=out, size=size, half=size // 2),
            {"theta": theta, "transition_in": m, "transition_out": out, "size_after": size // 2},
            cost_bars([_("block output"), _("after the transition")], [m, out], _("Compression θ = {theta}").format(
                theta=theta), _("channels"))))
    else:
        steps.append(Step(
            _("2. The end of the network"),
            _("This is the last block: no transition follows. BN and ReLU, then global average pooling turn "
              "the {m} maps of {size}×{size} into {m} numbers for the classifier.").format(m=m, size=size),
            {"transition_in": m, "transition_out": None, "size_after": 1}))

    last = layers[-1]
    if config.bottleneck:
        width = last.conv1.out_channels
        with_b = last.conv1.kernel_weights + last.conv2.kernel_weights
        without = 9 * last.in_channels * k
        steps.append(Step(
            _("3. The bottleneck"),
            _("Inside every layer a 1×1 convolution first reduces the input to {bn}·k = {width} channels, then "
              "the 3×3 convolution makes the k = {k} new ones. In the block's last layer ({c} channels in) the "
              "convolutions have {c} × {width} + 9 × {width} × {k} = {with_b} weights, against "
              "9 × {c} × {k} = {without} for a 3×3 convolution alone.").format(
                bn=config.bn_size, width=width, k=k, c=last.in_channels, with_b=f"{with_b:,}",
                without=f"{without:,}"),
            {"bottleneck_width": width, "last_in": last.in_channels, "weights_with": with_b,
             "weights_without": without},
            cost_bars([_("1×1 + 3×3 (bottleneck)"), _("3×3 only")], [with_b, without],
                      _("Conv weights of the last layer"), _("weights"))))
    else:
        weights = last.conv1.kernel_weights
        steps.append(Step(
            _("3. No bottleneck"),
            _("The bottleneck is off: each layer is a single 3×3 convolution. The block's last layer has "
              "9 × {c} × {k} = {weights} weights; a 1×1 bottleneck to {width} channels would need "
              "{c} × {width} + 9 × {width} × {k} = {with_b}.").format(
                c=last.in_channels, k=k, weights=f"{weights:,}", width=config.bn_size * k,
                with_b=f"{last.in_channels * config.bn_size * k + 9 * config.bn_size * k * k:,}"),
            {"bottleneck_width": None, "last_in": last.in_channels, "weights_without": weights}))
    return steps


def inception_walkthrough(config: InceptionModuleConfig, _=_identity) -> list[Step]:
    """One Inception module on the user's widths: each branch, the concatenation, and the cost of
    the 5×5 branch with and without its 1×1 reduction."""
    report = module_report(config)
    widths = dict(zip(("ch1x1", "ch3x3red", "ch3x3", "ch5x5red", "ch5x5", "pool_proj"), config.widths))
    c, size = config.in_channels, config.input_size
    by_name = {b.name: b for b in report.branches}
    n = config.branch3_kernel

    if config.reduction:
        paths = [
            _("1×1 branch: {c} → {out}").format(c=c, out=by_name["1x1"].out_channels),
            _("3×3 branch: {c} → 1×1 → {red} → 3×3 → {out}").format(c=c, red=widths["ch3x3red"],
                                                                     out=by_name["3x3"].out_channels),
            _("{n}×{n} branch: {c} → 1×1 → {red} → {n}×{n} → {out}").format(n=n, c=c, red=widths["ch5x5red"],
                                                                            out=by_name["5x5"].out_channels),
            _("pool branch: {c} → 3×3 max pool → 1×1 → {out}").format(c=c, out=by_name["pool"].out_channels),
        ]
    else:
        paths = [
            _("1×1 branch: {c} → {out}").format(c=c, out=by_name["1x1"].out_channels),
            _("3×3 branch: {c} → 3×3 → {out}").format(c=c, out=by_name["3x3"].out_channels),
            _("{n}×{n} branch: {c} → {n}×{n} → {out}").format(n=n, c=c, out=by_name["5x5"].out_channels),
            _("pool branch: {c} → 3×3 max pool → {out} (no projection)").format(
                c=c, out=by_name["pool"].out_channels),
        ]
    branch_out = {name: b.out_channels for name, b in by_name.items()}
    steps = [Step(
        _("1. Four branches on the same input"),
        _("{c} channels of {size}×{size} enter the module and go through four branches side by side; every "
          "branch keeps the {size}×{size} size.").format(c=c, size=size) + "\n\n" +
        "\n".join(f"- {p}" for p in paths),
        {"in_channels": c, "size": size, "branch_out": branch_out})]

    total = report.out_channels
    steps.append(Step(
        _("2. The concatenation"),
        _("The outputs are concatenated along the channel axis: {sum} = {total} channels of {size}×{size}.").format(
            sum=" + ".join(str(branch_out[name]) for name in ("1x1", "3x3", "5x5", "pool")), total=total, size=size),
        {"out_channels": total},
        concatenation_figure([(branch_title(name, _), branch_out[name]) for name in ("1x1", "3x3", "5x5", "pool")], _)))

    five = by_name["5x5"]
    with_r, without = five.conv_weight_params, five.naive_conv_weight_params
    area = size * size
    ratio = without / with_r if with_r else float("inf")
    if config.reduction:
        text = _("With its 1×1 reduction to {red} channels, the {n}×{n} branch has {with_r} conv weights and "
                 "costs {macs_with} MACs; the same branch straight from {c} channels would have {without} weights "
                 "and {macs_without} MACs: {ratio:.1f}× more.").format(
            red=widths["ch5x5red"], n=n, with_r=f"{with_r:,}", macs_with=f"{five.macs:,}", c=c,
            without=f"{without:,}", macs_without=f"{without * area:,}", ratio=ratio)
    else:
        text = _("The reductions are off: the {n}×{n} branch reads all {c} channels and has {without} conv "
                 "weights ({macs_without} MACs at {size}×{size}). Switch the 1×1 reductions on to see what they "
                 "save.").format(n=n, c=c, without=f"{without:,}", macs_without=f"{without * area:,}", size=size)
    steps.append(Step(
        _("3. What the 1×1 reduction saves"), text,
        {"weights_with": with_r, "weights_without": without, "macs_with": five.macs,
         "macs_without": without * area},
        cost_bars([_("with the 1×1 reduction"), _("without it")], [with_r, without],
                  _("Conv weights of the {n}×{n} branch").format(n=n), _("weights"))))

    if config.reduction:
        text = _("All branches together: {weights} conv weights with the reductions, {naive} without them; "
                 "{macs} MACs per image.").format(weights=f"{report.conv_weight_params:,}",
                                                  naive=f"{report.naive_conv_weight_params:,}", macs=f"{report.macs:,}")
    else:
        text = _("All branches together: {weights} conv weights and {macs} MACs per image.").format(
            weights=f"{report.conv_weight_params:,}", macs=f"{report.macs:,}")
    steps.append(Step(
        _("4. The whole module"), text,
        {"conv_weights": report.conv_weight_params, "naive_conv_weights": report.naive_conv_weight_params,
         "macs": report.macs}))
    return steps
