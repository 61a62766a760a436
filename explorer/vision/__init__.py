"""Pretrained models on real images: safe decoding, weights, classification and attribution maps."""
