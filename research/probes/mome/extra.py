"""The quick MoME probe at la = 0.1 on four more sets, a second look before the full tables.

    python -m research.probes.mome.extra VARIANT [VARIANT ...]    # results in results_extra/VARIANT.jsonl

17_InternetAds (where twice the steps collapsed in the full table), 39_vertebral and 15_Hepatitis
(large gaps to CatBoost at la = 0.1) and 42_WBC: small sets outside the quick subset. Variants and
cells logic as ``quick`` (``t`` = ``e10_nv_ens4_s25``, the tables' MoME).
"""

from __future__ import annotations

import sys

import torch

from research.probes.mome import quick

EXTRA = ("17_InternetAds", "39_vertebral", "15_Hepatitis", "42_WBC")

if __name__ == "__main__":
    torch.set_num_threads(1)
    quick.DATASETS = EXTRA
    quick.OUT = quick.OUT.parent / "results_extra"
    quick.VARIANTS["t"] = quick.ENS4_S25
    for variant in sys.argv[1:]:
        quick.run(variant)
