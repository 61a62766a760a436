"""Numbers about models: measurements with torch's own counters, cross-checks, design-space
sweeps and side-by-side comparisons; ``work``: the cross-check, timings and torchvision
measurements as jobs. Imports models (and the job layer, for ``work``), never charts, cli or UI code."""
