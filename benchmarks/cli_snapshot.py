"""Snapshot of the CLI's JSON output for every preset, to prove a refactor changed no number.

    python benchmarks/cli_snapshot.py save before.json   # before the change
    python benchmarks/cli_snapshot.py check before.json  # after: exits 1 and names what differs

Each preset's ``profile --format json`` (at batch 1 and 8), the ``module`` report, ``compare
--format json`` of the analytic architectures and ``presets`` are captured byte for byte.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from explorer.cli.main import main  # noqa: E402


def run(argv: list[str]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    return f"exit {code}\n{out.getvalue()}"


def commands() -> list[list[str]]:
    presets = [line.split()[0] for line in run(["presets"]).splitlines()[1:] if line.strip() and
               not line.startswith(("-", "exit", "preset"))]
    argvs = [["presets"]]
    for name in presets:
        argvs += [["profile", name, "--format", "json"], ["profile", name, "--format", "json", "--batch-size", "8"]]
    argvs += [["module", "--format", "json"], ["module", "--no-reduction", "--format", "json"],
              ["module", "--factorize", "--format", "json"],
              ["profile", "densenet121", "--growth-rate", "24", "--compression", "0.29", "--format", "json"],
              ["profile", "googlenet", "--width-multiplier", "0.75", "--format", "json"]]
    return argvs


def snapshot() -> dict[str, str]:
    return {" ".join(argv): run(argv) for argv in commands()}


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("save", "check"):
        sys.exit(__doc__)
    path = Path(sys.argv[2])
    now = snapshot()
    if sys.argv[1] == "save":
        path.write_text(json.dumps(now, indent=1, sort_keys=True))
        print(f"saved {len(now)} outputs to {path}")
    else:
        before = json.loads(path.read_text())
        differ = sorted(k for k in before.keys() | now.keys() if before.get(k) != now.get(k))
        for key in differ:
            print(f"DIFFERS: {key}")
        print(f"{len(before) - len(differ)} of {len(before)} outputs byte-identical")
        sys.exit(1 if differ else 0)
