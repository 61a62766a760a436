"""The package's shape: dependencies run one way (models <- analysis <- charts, cli, pages; the job
layer knows no model: vision, analysis and training bring their work to it).

Imports are read from every file's syntax tree, so a local import inside a function counts too,
and relative imports are resolved to the module they name.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "explorer"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module the source imports, absolute; ``from a import b`` counts ``a`` and ``a.b``
    (b may be a submodule: ``from .. import charts``)."""
    package = module if is_package else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def imports_of(subpackage: str) -> dict[str, set[str]]:
    result = {}
    for path in sorted((PACKAGE / subpackage).rglob("*.py")):
        result[module_name(path)] = imported_modules(path.read_text(), module_name(path), path.name == "__init__.py")
    return result


def offending(imports: set[str], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(m for m in imports if any(m == f or m.startswith(f + ".") for f in forbidden))


def test_the_resolver_reads_relative_and_local_imports():
    source = ("from ..charts import densenet\nfrom .. import cli\nfrom . import fields\nimport streamlit as st\n"
              "def f():\n    from ...explorer_x import y\n    import explorer.vision.images\n")
    found = imported_modules(source, "explorer.analysis.sweep")
    assert {"explorer.charts", "explorer.charts.densenet", "explorer.cli", "explorer.analysis.fields", "streamlit",
            "explorer.vision.images"} <= found
    assert imported_modules("from .limits import BATCH_SIZE\n", "explorer.models", is_package=True) \
        == {"explorer.models.limits", "explorer.models.limits.BATCH_SIZE"}
    assert offending({"explorer.charts.densenet", "explorer.chartsx", "streamlit"}, ("explorer.charts", "streamlit")) \
        == ["explorer.charts.densenet", "streamlit"]


@pytest.mark.slow
def test_importing_the_package_does_not_import_streamlit():
    code = "import explorer, sys; assert 'streamlit' not in sys.modules, 'streamlit imported'"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("subpackage", ["models", "analysis"])
def test_core_never_imports_charts_cli_or_streamlit(subpackage):
    modules = imports_of(subpackage)
    assert len(modules) >= 4  # the walk found the files
    for module, imports in modules.items():
        assert offending(imports, ("explorer.charts", "explorer.cli", "streamlit")) == [], module


def test_models_import_no_other_explorer_subpackage():
    modules = imports_of("models")
    assert "explorer.models.googlenet" in modules
    # errors, units and i18n are leaves: i18n only marks messages (N_) and formats them, it imports nothing
    allowed_outside = {"explorer.errors", "explorer.units", "explorer.i18n", "explorer.csvtext"}
    for module, imports in modules.items():
        outside = offending(imports, ("explorer.analysis", "explorer.vision", "explorer.charts", "explorer.cli",
                                      "explorer.jobs", "pages", "streamlit"))
        assert outside == [], module
        others = {m for m in imports if m.startswith("explorer.") and not m.startswith("explorer.models")}
        assert {m.rsplit(".", 1)[0] if m.rsplit(".", 1)[0] in allowed_outside else m for m in others} \
            <= allowed_outside, module


# Who may import whom inside the core, besides the leaves (``LEAVES``: they import no subpackage):
#   models   <- nothing else (the test above is stricter still)
#   jobs     <- nothing else: infrastructure only; a job's work and its cost estimate live with
#               their domain (vision/work.py, analysis/work.py, training/work.py)
#   vision   <- models, jobs
#   analysis <- models, jobs, sharing, and training.plan only (the barely-trained rule, for reuse_caveat)
#   training <- models, jobs, vision (a trained DenseNet as a classifier), analysis, sharing
# and none of them imports charts, cli, teach, the pages or streamlit.
LEAVES = ("explorer.errors", "explorer.units", "explorer.i18n", "explorer.csvtext", "explorer.files",
          "explorer.environment")
MAY_IMPORT = {
    "models": (),
    "jobs": (),
    "vision": ("explorer.models", "explorer.jobs"),
    "analysis": ("explorer.models", "explorer.jobs", "explorer.sharing", "explorer.training.plan"),
    "training": ("explorer.models", "explorer.jobs", "explorer.vision", "explorer.analysis", "explorer.sharing"),
}


def outside_layer(imports: set[str], subpackage: str) -> list[str]:
    """The core modules, pages and streamlit that ``imports`` reaches beyond what ``subpackage`` may."""
    allowed = (f"explorer.{subpackage}",) + LEAVES + MAY_IMPORT[subpackage]
    reached = offending(imports, ("explorer", "pages", "streamlit"))
    # ``from .. import environment`` also names the package itself: the alias says which module it is
    return [m for m in reached if m != "explorer" and not offending({m}, allowed)]


@pytest.mark.parametrize("subpackage", sorted(MAY_IMPORT))
def test_each_core_subpackage_imports_only_its_layers(subpackage):
    modules = imports_of(subpackage)
    assert len(modules) >= 6  # the walk found the files
    for module, imports in modules.items():
        assert outside_layer(imports, subpackage) == [], module


def test_the_layer_check_catches_a_job_that_knows_a_model():
    found = imported_modules("from .. import environment\nfrom ..i18n import N_\n"
                             "def f():\n    from ..vision.explain import explain\n", "explorer.jobs.work")
    assert outside_layer(found, "jobs") == ["explorer.vision.explain", "explorer.vision.explain.explain"]
    assert outside_layer(found, "vision") == []
    assert outside_layer({"explorer.training.weights", "explorer.training.plan.chance"}, "analysis") \
        == ["explorer.training.weights"]


def test_the_leaves_import_no_subpackage():
    for leaf in LEAVES:
        path = ROOT / (leaf.replace(".", "/") + ".py")
        if not path.exists():
            path = ROOT / leaf.replace(".", "/") / "__init__.py"
        imports = imported_modules(path.read_text(), leaf, path.name == "__init__.py")
        reached = [m for m in offending(imports, ("explorer", "pages", "streamlit")) if m != "explorer"]
        assert not offending(set(reached), tuple(f"explorer.{sub}" for sub in MAY_IMPORT) + ("pages", "streamlit")), \
            leaf


def test_inception_v3_uses_only_public_names_of_inception():
    tree = ast.parse((PACKAGE / "models" / "inception_v3.py").read_text())
    private = [alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
               for alias in node.names if alias.name.startswith("_")]
    assert private == []


def test_no_core_module_imports_another_modules_private_names():
    """A name another module uses is public (no underscore): ``densenet_layers``, ``FAMILY``,
    ``torchvision_model``, ``raise_for`` once were not."""
    private = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module != "__future__":
                private += [f"{path.relative_to(ROOT)}: {alias.name}" for alias in node.names
                            if alias.name.startswith("_")]
    assert private == []


def test_every_script_compiles_on_this_python():
    """Scripts no test imports (benchmarks, deploy helpers) still compile on the Python of the pin
    (3.11): an f-string nesting the same quotes, valid only from 3.12, once kept the floor page of
    benchmarks/rerun_speed.py from running at all."""
    scripts = [path for folder in ("benchmarks", "deploy", "pages", "explorer", "tests")
               for path in sorted((ROOT / folder).rglob("*.py"))] + [ROOT / "streamlit_app.py"]
    assert any(path.name == "floor_page.py" for path in scripts)
    broken = []
    for path in scripts:
        try:
            compile(path.read_text(encoding="utf-8"), str(path), "exec")
        except SyntaxError as error:
            broken.append(f"{path.relative_to(ROOT)}:{error.lineno}: {error.msg}")
    assert broken == []
