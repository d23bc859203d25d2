import sys, os, json, glob, numpy as np
import torch

torch.set_num_threads(1)
from hydra_env import datasets
from detectors.boosted import BoostedDetector
from sklearn.neighbors import NearestNeighbors
from sklearn.metrics import roc_auc_score

DD = "/work/shared/datasets/adbench/Classical"
kdir = sys.argv[1]
out = sys.argv[2]
res = json.load(open(out)) if os.path.exists(out) else {}
for f in sorted(glob.glob(f"{kdir}/*.npz")):
    name = os.path.basename(f)
    if name in res:
        continue
    ds, seed = name[:-4].rsplit("_", 1)
    seed = int(seed)
    d = np.load(f)
    kept = d["kept"].astype(np.float64)
    nov = d["novelty"]
    X, y = datasets.load(ds, data_dir=DD)
    sp = datasets.adbench_split(X, y, 0.1, seed)
    r = {}
    for key, rows in (("syncol", kept), ("syncol_nov0.9", kept[nov >= 0.9])):
        if len(rows) == 0:
            r[key] = None
            continue
        k = min(3, len(rows))
        nn = NearestNeighbors(n_neighbors=k).fit(rows)

        def col(A):
            return -np.log(nn.kneighbors(A)[0][:, -1] + 1e-6)[:, None]

        det = BoostedDetector(random_state=seed).fit(np.hstack([sp.X_train, col(sp.X_train)]), sp.y_train)
        r[key] = roc_auc_score(sp.y_test, det.decision_function(np.hstack([sp.X_test, col(sp.X_test)])))
    res[name] = r
    print(name, r, flush=True)
    json.dump(res, open(out + ".tmp", "w"))
    os.replace(out + ".tmp", out)
