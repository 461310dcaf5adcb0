"""Vulnerability data (NVD import, CPEs, versions) and package matching for the local service."""
