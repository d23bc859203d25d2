"""Where the hedged value loop's kept rows joined, against where only the exposure rows did (both tables, la = 0.1).

python research/probes/exposure_blend/kept_rows.py > research/probes/exposure_blend/kept_rows.log
"""

import pandas as pd

for path, key in [
    ("benchmarks/results/adbench/adbench_results.csv", ["dataset", "seed"]),
    ("benchmarks/results/unseen/unseen_results.csv", ["dataset", "held_out_type", "seed"]),
]:
    o = pd.read_csv(path)
    o = o[(o.status == "ok") & (o.la == 0.1)]
    if "n_labeled" in o:
        o = o[o.n_labeled.isna()]
    o = o.drop_duplicates(subset=key + ["method"], keep="last")
    v = o[o.method == "swift_hydra_value"].set_index(key)
    c = o[o.method == "swift_hydra_control"].set_index(key)["auc_roc"]
    v["gain"] = 100 * (v.auc_roc - c.reindex(v.index))
    joined = v.synthetic_weight_used.fillna(0) > 0
    print(
        path.split("/")[2],
        "cells",
        len(v),
        "kept joined",
        joined.sum(),
        "gain there",
        round(v.gain[joined].mean(), 2),
        "elsewhere",
        round(v.gain[~joined].mean(), 2),
        "exposure used",
        (v.n_exposure_used > 0).sum(),
    )
