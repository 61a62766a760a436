"""CNN architecture explorer: live, configurable DenseNet and Inception models with exact
analytic profiles. This package never imports streamlit; the pages are thin wrappers."""

from .architectures import (ARCHITECTURES, Budget, all_presets, best_device, build_model, check_budget,
                            materialize, profile)
from .densenet import DenseNet, DenseNetConfig
from .errors import BudgetError, ConfigError, ExplorerError
from .inception import GoogLeNet, GoogLeNetConfig, InceptionModuleConfig, module_report
from .inception_v3 import InceptionV3Config
from .explain import explain  # binds the function over the submodule of the same name
from .pretrained import load_pretrained
from .profile import Profile

__all__ = [
    "ARCHITECTURES", "Budget", "BudgetError", "ConfigError", "DenseNet", "DenseNetConfig", "ExplorerError",
    "Profile", "all_presets", "best_device", "build_model", "check_budget", "materialize", "profile",
    "explain", "load_pretrained",
    "GoogLeNet", "GoogLeNetConfig", "InceptionModuleConfig", "InceptionV3Config", "module_report",
]
