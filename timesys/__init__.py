"""Vigiles client library (wire-compatible with the reference `timesys` package)."""
