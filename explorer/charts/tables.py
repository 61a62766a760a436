"""The tables the Build pages show: people's words and units, thousands separators, never "None".

Pure functions, profile or report in, ``pandas.DataFrame`` of display strings out, headers and
kinds in the language of ``_`` (numbers formatted identically in every language). The machine
names (``conv_weight_params``, ``activation_bytes``) stay in the CLI's JSON and the CSV download.
"""

from __future__ import annotations

import pandas as pd

from ..i18n import ENGLISH, N_
from ..models.profile import Profile
from ..units import format_bytes, format_macs

MISSING = "—"

# Block kinds in the papers' words, with torchvision's class beside where it names them otherwise.
# Inception v3 (Szegedy et al. 2016, "Rethinking the Inception Architecture"): Fig. 5 modules at
# 35×35, Fig. 6 (n×n split into 1×n and n×1, n = 7) at 17×17, Fig. 7 (expanded filter banks) at
# 8×8, and grid-size reduction (section 7, Fig. 10) between them. torchvision names these
# InceptionA, C, E and InceptionB, D: its "InceptionB" is a grid reduction, not the paper's module B.
KIND_NAMES = {
    "stem": N_("stem (convolutions and pools before the first module)"),
    "head": N_("classifier (global average pool, dropout, linear)"),
    "aux": N_("auxiliary classifier (training only)"),
    "denseblock": N_("dense block"),
    "transition": N_("transition layer (1×1 conv, 2×2 average pool)"),
    "inception": N_("Inception module"),
    "maxpool": N_("max pool (halves the grid)"),
    "inception-A": N_("Inception module, 5×5 as two 3×3 (paper Fig. 5; torchvision InceptionA)"),
    "inception-B": N_("grid-size reduction 35→17 (paper Fig. 10; torchvision InceptionB)"),
    "inception-C": N_("Inception module, n×n as 1×n and n×1 (paper Fig. 6; torchvision InceptionC)"),
    "inception-D": N_("grid-size reduction 17→8 (paper section 7; torchvision InceptionD)"),
    "inception-E": N_("Inception module, expanded filter banks (paper Fig. 7; torchvision InceptionE)"),
}


def count(value) -> str:
    """12345 -> '12,345'; None -> '—'."""
    return MISSING if value is None else f"{int(value):,}"


def _size(height, width) -> str:
    return MISSING if not height else f"{height}×{width} px"


def block_table(profile: Profile, _=ENGLISH) -> pd.DataFrame:
    """One row per block of a profile (stem, dense blocks or modules, transitions, head)."""
    memory = _("training activations (batch {batch})").format(batch=profile.batch_size)
    rows = [{
        _("block (torchvision name)"): b.name,
        _("what it is"): _(KIND_NAMES[b.kind]) if b.kind in KIND_NAMES else b.kind,
        _("channels in → out"): f"{b.in_channels:,} → {b.out_channels:,}",
        _("output size"): _size(b.height, b.width),
        _("layers (paper's count)"): count(b.layers) if b.layers else MISSING,
        _("parameters"): count(b.params),
        _("MACs per image"): count(b.macs),
        _("MACs (rounded)"): format_macs(b.macs) if b.macs else "0",
        memory: format_bytes(b.activation_bytes) if b.activation_bytes else "0 B",
    } for b in profile.blocks]
    return pd.DataFrame(rows)


def branch_table(branches, _=ENGLISH) -> pd.DataFrame:
    """One row per branch of an Inception module (``BranchReport`` rows)."""
    from .inception import branch_title

    rows = [{
        _("branch"): branch_title(b.name, _),
        _("output channels"): count(b.out_channels),
        _("conv weights (as built)"): count(b.conv_weight_params),
        _("conv weights without 1×1 reductions"): count(b.naive_conv_weight_params),
        _("parameters (with BN)"): count(b.params),
        _("MACs per image"): count(b.macs),
    } for b in branches]
    return pd.DataFrame(rows)
