"""app tier."""
