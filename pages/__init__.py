"""The app's pages, one file each; what they share is in ``pages.ui``."""
