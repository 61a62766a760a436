"""The command line as a user runs it: ``python -m explorer ARGS`` in a subprocess, optionally under
resource limits."""

from __future__ import annotations

import json
import sys

# Sets the limits in the child itself (a preexec_fn is not safe while a pool's threads run), then
# runs the CLI. Past RLIMIT_FSIZE a write fails (EFBIG) instead of the kernel's SIGXFSZ killing it;
# past RLIMIT_CPU the kernel stops it (SIGXCPU).
LIMITED = ("import json, resource, runpy, signal, sys\n"
           "for name, limit in json.loads(sys.argv.pop(1)).items():\n"
           "    if name == 'RLIMIT_FSIZE':\n"
           "        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
           "    resource.setrlimit(getattr(resource, name), (limit, limit))\n"
           "sys.argv[0] = 'explorer'\n"
           "runpy.run_module('explorer', run_name='__main__')\n")


def explorer_command(*args: str, **limits: int) -> list[str]:
    """The command line of ``python -m explorer ARGS``; with ``limits`` (``RLIMIT_AS=bytes``,
    ``RLIMIT_CPU=seconds``, ``RLIMIT_FSIZE=bytes``; 0 or None: no limit) the same run under them."""
    limits = {name: limit for name, limit in limits.items() if limit}
    if not limits:
        return [sys.executable, "-m", "explorer", *args]
    return [sys.executable, "-c", LIMITED, json.dumps(limits), *args]
