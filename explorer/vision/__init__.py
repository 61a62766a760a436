"""Pretrained models on real images: safe decoding, weights, classification and attribution maps.

``images`` (decoding untrusted files) -> ``preprocess`` (image to tensor) -> ``weights`` (the
registry, read from torchvision's ``Weights`` enums) -> ``download`` (files on disk, status, the
download) -> ``adapt`` / ``loading`` (state dicts into modules) -> ``classifier`` (``Pretrained``,
``load_pretrained`` and the process cache) -> ``attribution`` (one record per method) ->
``explain`` (maps and predictions) -> ``overlay`` (drawing, download bytes); ``work``: the
explanations as jobs of the job layer, with their cost estimates.
"""
