import sys, time, json, numpy as np, os

os.environ.setdefault("OMP_NUM_THREADS", "1")
import torch

torch.set_num_threads(1)
from hydra_env import datasets
from sklearn.metrics import roc_auc_score
from catboost import CatBoostClassifier
from pyod.models.iforest import IForest
from pyod.models.ecod import ECOD
from pyod.models.knn import KNN

DD = "/work/shared/datasets/adbench/Classical"
sets = sys.argv[1].split(",")
out = sys.argv[2]
res = {}
if os.path.exists(out):
    res = json.load(open(out))


def unsup(Xtr, Xte, seed):
    feats_tr, feats_te = [], []
    for m in (IForest(random_state=seed), ECOD(), KNN(n_neighbors=5)):
        m.fit(Xtr)
        a, b = m.decision_scores_, m.decision_function(Xte)
        mu, sd = a.mean(), a.std() + 1e-12
        feats_tr.append((a - mu) / sd)
        feats_te.append((b - mu) / sd)
    return np.column_stack(feats_tr), np.column_stack(feats_te)


for ds in sets:
    for seed in (1, 2, 3):
        key = f"{ds}|{seed}"
        if key in res:
            continue
        X, y = datasets.load(ds, data_dir=DD)
        sp = datasets.adbench_split(X, y, 0.1, seed)
        Xtr, ytr, Xte, yte = sp.X_train, sp.y_train, sp.X_test, sp.y_test
        r = {}
        t = time.time()
        Ftr, Fte = unsup(Xtr, Xte, seed)
        r["t_unsup"] = time.time() - t
        r["unsup"] = Fte.tolist()
        t = time.time()
        cb = CatBoostClassifier(verbose=False, random_seed=seed, thread_count=1).fit(Xtr, ytr)
        r["t_cb"] = time.time() - t
        r["cb"] = cb.predict_proba(Xte)[:, 1].tolist()
        t = time.time()
        cbu = CatBoostClassifier(verbose=False, random_seed=seed, thread_count=1).fit(
            np.hstack([Xtr, Ftr]), ytr
        )
        r["t_cbu"] = time.time() - t
        r["cbu"] = cbu.predict_proba(np.hstack([Xte, Fte]))[:, 1].tolist()
        r["yte"] = yte.tolist()
        res[key] = r
        print(
            ds,
            seed,
            {k: round(roc_auc_score(yte, r[k]) * 100, 2) for k in ("cb", "cbu")},
            round(r["t_cb"], 1),
            round(r["t_cbu"], 1),
            flush=True,
        )
        json.dump(res, open(out + ".tmp", "w"))
        os.replace(out + ".tmp", out)
