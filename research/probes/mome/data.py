"""Where the MoME probes read the ADBench sets: ``$SWIFT_HYDRA_DATA``, else the shared folder they ran on."""

from __future__ import annotations

import os

DD = os.environ.get("SWIFT_HYDRA_DATA", "/work/shared/datasets/adbench/Classical")
