"""Errors raised while reading SBOM documents."""
from __future__ import annotations

from typing import Optional


class SbomError(ValueError):
    """An SBOM document is unreadable; the message is one line naming the file."""

    def __init__(self, problem: str, source: Optional[str] = None) -> None:
        self.problem = problem
        self.source = source
        super().__init__(f"{source}: {problem}" if source else problem)
