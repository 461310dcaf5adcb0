"""Machine and human outputs of a gate run, all fed by one `GateOutcome`."""
from timesys_ci.outputs.outcome import GateOutcome

__all__ = ["GateOutcome"]
