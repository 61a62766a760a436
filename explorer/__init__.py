"""CNN architecture explorer: live, configurable DenseNet and Inception models with exact
analytic profiles. This package never imports streamlit; the pages are thin wrappers."""

from .models.registry import (ARCHITECTURES, Budget, all_presets, best_device, build_model, check_budget,
                            materialize, profile)
from .models.densenet import DenseNet, DenseNetConfig
from .errors import BudgetError, ConfigError, ExplorerError
from .models.googlenet import GoogLeNet, GoogLeNetConfig
from .models.inception import InceptionModuleConfig, module_report
from .models.inception_v3 import InceptionV3Config
from .vision.explain import explain
from .vision.classifier import load_pretrained
from .models.profile import Profile

__all__ = [
    "ARCHITECTURES", "Budget", "BudgetError", "ConfigError", "DenseNet", "DenseNetConfig", "ExplorerError",
    "Profile", "all_presets", "best_device", "build_model", "check_budget", "materialize", "profile",
    "explain", "load_pretrained",
    "GoogLeNet", "GoogLeNetConfig", "InceptionModuleConfig", "InceptionV3Config", "module_report",
]
