"""Numbers about models: measurements with torch's own counters, cross-checks, design-space
sweeps and side-by-side comparisons. Imports models, never charts, cli or UI code."""
