"""Fixtures shared by the AppTest tier (its plain helpers are tests/helpers/apptest.py)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.helpers.apptest import PAGES


@pytest.fixture
def explain_app():
    """The Explain page run on the offline model (EfficientNet-Lite0) and the sample image."""
    at = AppTest.from_file(str(PAGES / "explain.py"), default_timeout=120)
    at.session_state["explain_model"] = "efficientnet_lite0"
    return at.run()
