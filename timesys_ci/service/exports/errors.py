"""The one error type of the export layer."""
from __future__ import annotations


class ExportError(ValueError):
    """A report or manifest cannot be exported as asked.

    Raised for an unknown format/version or for input that lacks a field the
    export needs. The message is one line and names the bad value or field, so
    the HTTP layer can hand it to the client as is (HTTP 400).
    """

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))
