"""Core of the client: the LLAPI object, signing, transport and configuration."""
from timesys.core.llapi import LLAPI

__all__ = ["LLAPI"]
