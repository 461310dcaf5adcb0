"""CI layer for Vigiles: settings, CLI, gate, outputs, local service."""
