"""`python -m timesys_ci ...`"""
from __future__ import annotations

import sys

from timesys_ci.cli import main

if __name__ == "__main__":
    sys.exit(main())
