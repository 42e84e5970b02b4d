"""Plume's version, on the ground floor: every room may read it without importing the package."""

__version__ = "0.1.0"
