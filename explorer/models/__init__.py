"""What the explorer can build: layer specs, architecture configs and their live modules.

One plan per architecture feeds both the ``nn.Module`` (torchvision's module names, so weights
load ``strict=True``) and the analytic profile. ``fields.py`` and ``limits.py`` hold every config
field's checks and allowed ranges once. Imports nothing from analysis, vision, charts, cli or UI.
"""
