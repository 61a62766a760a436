"""Every allowed range of a config field or input, defined once.

The configs validate with these, the CLI and the sweep read them, and the pages' widgets take
their bounds from them (``st.slider(label, *DENSENET["growth_rate"])``).
"""

from __future__ import annotations

import math

from .fields import Range

BATCH_SIZE = Range(1, 4096)  # images per batch, for activation memory
INPUT_SIZE = Range(8, 2048)  # square input, pixels per side
NUM_CLASSES = Range(1, 100_000)
DROPOUT = Range(0, 1, integer=False, open_high=True)
INCEPTION_WIDTH = Range(1, 1024)  # channels of one conv in an Inception module

DENSENET = {
    "growth_rate": Range(1, 128),
    "num_blocks": Range(1, 6),
    "block_layers": Range(1, 128),
    "num_init_features": Range(1, 1024),
    "bn_size": Range(1, 16),
    "compression": Range(0, 1, integer=False, open_low=True),
    "drop_rate": DROPOUT,
    "input_size": INPUT_SIZE,
    "num_classes": NUM_CLASSES,
}
# Narrower ranges that the DenseNet page's sliders and the sweep offer; configs accept the above.
DENSENET_OFFERED = {
    "compression": Range(0.05, 1.0, integer=False),
    "drop_rate": Range(0.0, 0.9, integer=False),
}

INCEPTION_MODULE = {
    "in_channels": Range(1, 4096),
    "width": INCEPTION_WIDTH,
    "module_size": Range(1, 1024),  # the module's input feature map, pixels per side
}

# What the Inception page's module designer offers (its sliders); configs accept the above.
INCEPTION_MODULE_OFFERED = {
    "in_channels": Range(1, 1024),
    "width": Range(0, 512),  # 0 is offered so a learner can see a branch refused
    "module_size": Range(1, 112),
}

GOOGLENET = {
    "width": INCEPTION_WIDTH,
    "width_multiplier": Range(0.0625, 4.0, integer=False),
    "input_size": INPUT_SIZE,
    "num_classes": NUM_CLASSES,
    "dropout": DROPOUT,
    "dropout_aux": DROPOUT,
}

RESNET = {
    "num_stages": Range(1, 6),  # torchvision's ResNets have 4
    "stage_blocks": Range(1, 64),  # residual blocks per stage (ResNet-152's third stage has 36)
    "base_width": Range(1, 256),  # stem channels and stage-1 planes (torchvision: 64)
    "cardinality": Range(1, 256),  # groups of the 3x3 conv (ResNeXt: 32 or 64)
    "width_per_group": Range(1, 1024),  # channels per group at 64 planes (wide ResNets: 128)
    "input_size": INPUT_SIZE,
    "num_classes": NUM_CLASSES,
}

INCEPTION_V3 = {
    "input_size": Range(75, INPUT_SIZE.high),  # torchvision's minimum
    "num_classes": NUM_CLASSES,
    "dropout": DROPOUT,
}

# Training a small DenseNet-BC with the CIFAR stem (the Train page, ``explorer.training``, ``python
# -m explorer train``): what the Train page offers, in its widgets and its address. The training loop
# accepts the same epochs; the CLI checks its epochs with them too (its model is any valid config).
TRAINING = {
    "epochs": Range(1, 100),
    "time_budget_s": Range(5, math.inf),  # the most is what one job may run on the server (training.work)
    "growth_rate": Range(2, 32),
}
TRAINING_DEPTHS = (10, 16, 22, 28, 34, 40, 52, 64)  # L = 6n+4 (DenseNet-BC)
TRAINING_IMAGE_SIZES = (16, 32)  # px per side
TRAINING_COMPRESSIONS = (0.25, 0.5, 0.75, 1.0)  # theta
# The Train page's memory view: the batch and the memory it is asked about.
MEMORY_GB = Range(0.1, 1024.0, integer=False)
