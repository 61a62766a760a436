"""Bounds on heavy work shared by every user of one server."""
