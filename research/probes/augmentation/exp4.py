import sys, os, json, glob, time, numpy as np
import torch

torch.set_num_threads(1)
from hydra_env import datasets
from detectors.boosted import BoostedDetector
from agents.deploy import synthetic_weights
from sklearn.metrics import roc_auc_score

DD = "/work/shared/datasets/adbench/Classical"
kdir = sys.argv[1]
out = sys.argv[2]
res = json.load(open(out)) if os.path.exists(out) else {}
while True:
    files = sorted(glob.glob(f"{kdir}/*.npz"))
    todo = [f for f in files if os.path.basename(f) not in res]
    if not todo:
        if os.path.exists(kdir + "/DONE"):
            break
        time.sleep(20)
        continue
    f = todo[0]
    name = os.path.basename(f)
    ds, seed = name[:-4].rsplit("_", 1)
    seed = int(seed)
    d = np.load(f)
    kept = d["kept"].astype(np.float64)
    nov = d["novelty"]
    X, y = datasets.load(ds, data_dir=DD)
    sp = datasets.adbench_split(X, y, 0.1, seed)
    r = {}

    def run(key, kept_rows, w, unsup=("iforest", "ecod", "knn")):
        det = BoostedDetector(unsupervised=unsup, random_state=seed)
        Xa = np.vstack([sp.X_train, kept_rows])
        ya = np.r_[sp.y_train, np.ones(len(kept_rows), int)]
        sw = synthetic_weights(sp.y_train, len(kept_rows), w) if len(kept_rows) else None
        det.fit(Xa, ya, sample_weight=sw)
        r[key] = roc_auc_score(sp.y_test, det.decision_function(sp.X_test))

    run("nov0.9_w0.25", kept[nov >= 0.9], 0.25)
    run("nov0.98_w0.5", kept[nov >= 0.98], 0.5)
    res[name] = r
    print(name, {k: round(v * 100, 2) for k, v in r.items()}, flush=True)
    json.dump(res, open(out + ".tmp", "w"))
    os.replace(out + ".tmp", out)
