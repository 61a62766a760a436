"""What the explorer can build: layer specs, architecture configs and their live modules.

One plan per architecture feeds both the ``nn.Module`` (torchvision's module names, so weights
load ``strict=True``) and the analytic profile. Imports nothing from analysis, charts, cli or UI.
"""
