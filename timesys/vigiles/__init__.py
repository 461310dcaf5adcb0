"""Vigiles operations, one module per API resource."""
from timesys.vigiles import cves, folders, groups, manifests, products, reports

__all__ = ["cves", "folders", "groups", "manifests", "products", "reports"]
