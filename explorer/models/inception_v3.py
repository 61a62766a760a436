"""Inception v3 (Szegedy et al., CVPR 2016) as torchvision ships it: an analytic profile.

The profile is arithmetic over a plan written as data (``inception_v3_plan``), with
torchvision's module names (``Mixed_5b.branch3x3dbl_2``...). ``InceptionV3`` is torchvision's
``Inception3`` itself, so ``build_model`` gives the real thing for torchinfo and the tests.

Params include the auxiliary head (27,161,264 for the ImageNet model); MACs are those of an
inference pass, which skips the auxiliary head (5,713,216,096 at 299 px).
"""

from __future__ import annotations

from dataclasses import dataclass

from torchvision.models.inception import Inception3

from ..i18n import N_
from ..errors import ConfigError
from .fields import ConfigFields, check_bool
from .inception import ConvBN, conv_bn, record_head, record_pool, record_stem, record_unit, truncated_normal_init
from .limits import INCEPTION_V3 as LIMITS
from .specs import AdaptiveAvgPool, Dropout, Linear, Pool


@dataclass(frozen=True)
class InceptionV3Config(ConfigFields):
    input_size: int = 299  # square input, pixels per side (torchvision's minimum is 75)
    num_classes: int = 1000
    aux_logits: bool = True  # the auxiliary head after Mixed_6e (its params count; inference skips it)
    dropout: float = 0.5  # before the classifier
    transform_input: bool = False  # torchvision re-normalises inputs only when loading its weights

    def __post_init__(self) -> None:
        for name in ("input_size", "num_classes"):
            LIMITS[name].check(name, getattr(self, name))
        check_bool("aux_logits", self.aux_logits)
        check_bool("transform_input", self.transform_input)
        LIMITS["dropout"].check("dropout", self.dropout)
        inception_v3_plan(self)


@dataclass(frozen=True)
class Split:
    """Parallel convs on one input, concatenated (Inception v3's expanded E modules)."""

    units: tuple[tuple[str, ConvBN], ...]

    @property
    def out_channels(self) -> int:
        return sum(u.out_channels for _, u in self.units)


@dataclass(frozen=True)
class MixedPlan:
    kind: str  # A, B, C, D or E, the module types of torchvision's inception.py
    in_channels: int
    branches: tuple[tuple[tuple[str, object], ...], ...]  # each: (name, ConvBN | Pool | Split) in order

    @property
    def out_channels(self) -> int:
        total = 0
        for branch in self.branches:
            last = branch[-1][1]
            total += self.in_channels if isinstance(last, Pool) else last.out_channels
        return total


def _a(c: int, pool_features: int) -> MixedPlan:
    return MixedPlan("A", c, (
        (("branch1x1", conv_bn(c, 64, 1)),),
        (("branch5x5_1", conv_bn(c, 48, 1)), ("branch5x5_2", conv_bn(48, 64, 5, padding=2))),
        (("branch3x3dbl_1", conv_bn(c, 64, 1)), ("branch3x3dbl_2", conv_bn(64, 96, 3, padding=1)),
         ("branch3x3dbl_3", conv_bn(96, 96, 3, padding=1))),
        (("avg_pool", Pool("avg", 3, 1, 1)), ("branch_pool", conv_bn(c, pool_features, 1))),
    ))


def _b(c: int) -> MixedPlan:
    return MixedPlan("B", c, (
        (("branch3x3", conv_bn(c, 384, 3, stride=2)),),
        (("branch3x3dbl_1", conv_bn(c, 64, 1)), ("branch3x3dbl_2", conv_bn(64, 96, 3, padding=1)),
         ("branch3x3dbl_3", conv_bn(96, 96, 3, stride=2))),
        (("max_pool", Pool("max", 3, 2)),),
    ))


def _c(c: int, c7: int) -> MixedPlan:
    row, col = dict(kernel_size=(1, 7), padding=(0, 3)), dict(kernel_size=(7, 1), padding=(3, 0))
    return MixedPlan("C", c, (
        (("branch1x1", conv_bn(c, 192, 1)),),
        (("branch7x7_1", conv_bn(c, c7, 1)), ("branch7x7_2", conv_bn(c7, c7, **row)),
         ("branch7x7_3", conv_bn(c7, 192, **col))),
        (("branch7x7dbl_1", conv_bn(c, c7, 1)), ("branch7x7dbl_2", conv_bn(c7, c7, **col)),
         ("branch7x7dbl_3", conv_bn(c7, c7, **row)), ("branch7x7dbl_4", conv_bn(c7, c7, **col)),
         ("branch7x7dbl_5", conv_bn(c7, 192, **row))),
        (("avg_pool", Pool("avg", 3, 1, 1)), ("branch_pool", conv_bn(c, 192, 1))),
    ))


def _d(c: int) -> MixedPlan:
    return MixedPlan("D", c, (
        (("branch3x3_1", conv_bn(c, 192, 1)), ("branch3x3_2", conv_bn(192, 320, 3, stride=2))),
        (("branch7x7x3_1", conv_bn(c, 192, 1)), ("branch7x7x3_2", conv_bn(192, 192, (1, 7), padding=(0, 3))),
         ("branch7x7x3_3", conv_bn(192, 192, (7, 1), padding=(3, 0))),
         ("branch7x7x3_4", conv_bn(192, 192, 3, stride=2))),
        (("max_pool", Pool("max", 3, 2)),),
    ))


def _e(c: int) -> MixedPlan:
    def split(prefix: str, width: int) -> Split:
        return Split(((f"{prefix}a", conv_bn(width, 384, (1, 3), padding=(0, 1))),
                      (f"{prefix}b", conv_bn(width, 384, (3, 1), padding=(1, 0)))))

    return MixedPlan("E", c, (
        (("branch1x1", conv_bn(c, 320, 1)),),
        (("branch3x3_1", conv_bn(c, 384, 1)), ("branch3x3_2", split("branch3x3_2", 384))),
        (("branch3x3dbl_1", conv_bn(c, 448, 1)), ("branch3x3dbl_2", conv_bn(448, 384, 3, padding=1)),
         ("branch3x3dbl_3", split("branch3x3dbl_3", 384))),
        (("avg_pool", Pool("avg", 3, 1, 1)), ("branch_pool", conv_bn(c, 192, 1))),
    ))


@dataclass(frozen=True)
class InceptionV3Plan:
    config: InceptionV3Config
    stem: tuple[tuple[str, object], ...]
    mixed: tuple[tuple[str, MixedPlan], ...]
    aux: tuple[tuple[str, object], ...]  # after Mixed_6e; empty without aux_logits
    dropout: Dropout
    fc: Linear


def inception_v3_plan(config: InceptionV3Config) -> InceptionV3Plan:
    stem = (
        ("Conv2d_1a_3x3", conv_bn(3, 32, 3, stride=2)),
        ("Conv2d_2a_3x3", conv_bn(32, 32, 3)),
        ("Conv2d_2b_3x3", conv_bn(32, 64, 3, padding=1)),
        ("maxpool1", Pool("max", 3, 2)),
        ("Conv2d_3b_1x1", conv_bn(64, 80, 1)),
        ("Conv2d_4a_3x3", conv_bn(80, 192, 3)),
        ("maxpool2", Pool("max", 3, 2)),
    )
    mixed = (("Mixed_5b", _a(192, 32)), ("Mixed_5c", _a(256, 64)), ("Mixed_5d", _a(288, 64)), ("Mixed_6a", _b(288)),
             ("Mixed_6b", _c(768, 128)), ("Mixed_6c", _c(768, 160)), ("Mixed_6d", _c(768, 160)),
             ("Mixed_6e", _c(768, 192)), ("Mixed_7a", _d(768)), ("Mixed_7b", _e(1280)), ("Mixed_7c", _e(2048)))
    aux = ()
    if config.aux_logits:
        aux = (("avg_pool", Pool("avg", 5, 3)), ("conv0", conv_bn(768, 128, 1)), ("conv1", conv_bn(128, 768, 5)),
               ("adaptive_avg_pool", AdaptiveAvgPool(1)), ("fc", Linear(768, config.num_classes)))
    plan = InceptionV3Plan(config, stem, mixed, aux, Dropout(config.dropout), Linear(2048, config.num_classes))
    sizes = _sizes(plan, config.input_size)
    if min(s for name, s in sizes.items() if not name.startswith("Aux")) < 1:
        where = next(name for name, s in sizes.items() if s < 1)
        raise ConfigError("input_size", N_("{size} px shrinks to nothing at {where}; use at least {minimum} px"),
                          size=config.input_size, where=where, minimum=_minimum_input_size(plan))
    return plan


def aux_fits(plan: InceptionV3Plan) -> bool:
    """Whether the auxiliary head can run (in training) at this input size: it needs 299 px or more."""
    return bool(plan.aux) and min(s for n, s in _sizes(plan, plan.config.input_size).items()
                                  if n.startswith("Aux")) >= 1


def _step_size(step, size: int) -> int:
    if isinstance(step, Split):
        step = step.units[0][1]
    spec = step.conv if isinstance(step, ConvBN) else step
    return spec.output_hw(size, size)[0] if size >= 1 else 0


def _sizes(plan: InceptionV3Plan, size: int) -> dict[str, int]:
    """Output size after every stem layer, every branch step and the aux head (0 or less: none left)."""
    sizes = {}
    for name, step in plan.stem:
        size = sizes[name] = _step_size(step, size)
    for name, mixed in plan.mixed:
        out = None
        for branch in mixed.branches:
            s = size
            for step_name, step in branch:
                s = sizes[f"{name}.{step_name}"] = _step_size(step, s)
            out = s
        size = sizes[name] = out
        if name == "Mixed_6e":
            s = size
            for step_name, step in plan.aux:
                s = sizes[f"AuxLogits.{step_name}"] = _step_size(step, s)
    return sizes


def _minimum_input_size(plan: InceptionV3Plan) -> int:
    largest = LIMITS["input_size"].high
    for size in range(1, largest + 1):
        if min(s for n, s in _sizes(plan, size).items() if not n.startswith("Aux")) >= 1:
            return size
    return largest


class InceptionV3(Inception3):
    """torchvision's Inception3 with a config and a ``reset_parameters`` for ``materialize``."""

    def __init__(self, config: InceptionV3Config) -> None:
        super().__init__(num_classes=config.num_classes, aux_logits=config.aux_logits,
                         transform_input=config.transform_input, init_weights=False, dropout=config.dropout)
        self.config = config
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torchvision's initialisation: truncated normal weights (std 0.1, or a module's stddev)."""
        truncated_normal_init(self, lambda m: float(getattr(m, "stddev", 0.1)))


PRESETS = {"inception_v3": InceptionV3Config()}  # 27,161,264 params (aux head included), 5.71 GMACs at 299
PRESET_DESCRIPTIONS = {"inception_v3": N_("ImageNet, torchvision's Inception v3 at 299 px (aux head counted in params)")}

LAYERS = {"A": 3, "B": 3, "C": 5, "D": 4, "E": 3}  # convs on the longest branch


def profile_inception_v3(config: InceptionV3Config, batch_size: int = 1, preset: str | None = None):
    """Arithmetic over ``inception_v3_plan``; conventions as in ``googlenet.profile_googlenet``.

    Functional pools inside the modules are rows too (``Mixed_5b.avg_pool``); the average pools
    keep their input (the module input, kept anyway) and the max pools their int64 indices.
    """
    from .profile import Profile, ProfileRecorder

    plan = inception_v3_plan(config)
    rec = ProfileRecorder(batch_size)
    size = config.input_size
    c, h, w = record_stem(rec, plan.stem, size)
    kinds, counts = {"stem": "stem", "head": "head"}, {"stem": 5, "head": 1}
    for name, mixed in plan.mixed:
        rec.block = name
        kinds[name], counts[name] = f"inception-{mixed.kind}", LAYERS[mixed.kind]
        for branch in mixed.branches:
            bc, bh, bw = c, h, w
            for j, (step_name, step) in enumerate(branch):
                full = f"{name}.{step_name}"
                if isinstance(step, ConvBN):
                    bc, bh, bw = record_unit(rec, full, step, bc, bh, bw)
                elif isinstance(step, Split):
                    for unit_name, unit in step.units:
                        oc, oh, ow = record_unit(rec, f"{name}.{unit_name}", unit, bc, bh, bw)
                    rec.add_pseudo(f"{full}.cat", "concat", step.out_channels, oh, ow, output_saved=False,
                                   in_channels=bc)
                    bc, bh, bw = step.out_channels, oh, ow
                else:  # a conv after the pool keeps its output
                    bc, bh, bw = record_pool(rec, full, step, bc, bh, bw, output_saved=j < len(branch) - 1)
        out_h = rec.rows[-1].height
        # The global average pool after Mixed_7c runs as a mean, which keeps no input.
        rec.add_pseudo(f"{name}.cat", "concat", mixed.out_channels, out_h, out_h,
                       output_saved=name != "Mixed_7c", in_channels=c)
        c, h, w = mixed.out_channels, out_h, out_h
        if name == "Mixed_6e" and plan.aux:
            rec.block = "AuxLogits"
            kinds["AuxLogits"], counts["AuxLogits"] = "aux", 0
            first = len(rec.rows)
            rec.training_only = True  # not part of an inference pass: no MACs
            ac, ah, aw = c, h, w
            for step_name, step in plan.aux:
                full = f"AuxLogits.{step_name}"
                if isinstance(step, ConvBN):
                    ac, ah, aw = record_unit(rec, full, step, ac, ah, max(aw, 1))
                else:  # the conv after the pool and the fc after the global pool keep their inputs
                    ac, ah, aw = rec.add(full, step, ac, ah, max(aw, 1), output_saved=step.kind != "linear")
                ah = aw = max(ah, 0)
            rec.training_only = False
            fits = aux_fits(plan)
            for row in rec.rows[first:]:
                if not fits:  # too small to run at all: only its weights count
                    row.height = row.width = row.activation_bytes = 0
    record_head(rec, plan.dropout, plan.fc, c, h, w)
    return Profile("inception_v3", preset, config.to_dict(), (3, size, size), batch_size, rec.rows,
                   rec.blocks(kinds, counts))
