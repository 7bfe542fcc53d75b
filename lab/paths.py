"""Where the lab keeps things: the build cache (outside the repo) and per-lab state."""

import os
from pathlib import Path

CACHE = Path(os.environ.get("FLEETREADY_LAB_CACHE", "/var/cache/fleetready-lab"))
LAB_DIR = Path(__file__).resolve().parent
STATE = LAB_DIR / ".state"
LABEL = "fleetready.lab"
LABEL_PID = "fleetready.lab.pid"
