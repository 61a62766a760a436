"""Fixtures shared by the unit tier (its plain helpers are in tests/helpers/)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def lite0():
    """The offline EfficientNet-Lite0 with its real weights (explorer.load_pretrained)."""
    import explorer

    return explorer.load_pretrained("efficientnet_lite0", device="cpu")


@pytest.fixture(scope="module")
def digits16():
    """scikit-learn's digits at 16 x 16 (explorer.training.digits_dataset)."""
    from explorer.training import digits_dataset

    return digits_dataset(size=16)
