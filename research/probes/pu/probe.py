"""Probe: Elkan-Noto PU weighting of the unlabeled pool before the deployment fit (quick subset)."""
import sys, time, json
import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from hydra_env.datasets import load_split
from detectors.boosted import BoostedDetector

SETS = ["12_fault", "17_InternetAds", "39_vertebral", "46_WPBC", "41_Waveform", "7_Cardiotocography", "6_cardio", "31_satimage-2"]
DATA = "/work/shared/datasets/adbench/Classical"

def oof_g(Xw, y, seed, folds=5):
    import lightgbm as lgb
    g = np.zeros(len(y))
    skf = StratifiedKFold(min(folds, int(y.sum())), shuffle=True, random_state=seed)
    for tr, te in skf.split(Xw, y):
        m = lgb.LGBMClassifier(random_state=seed, n_jobs=1, verbose=-1).fit(Xw[tr], y[tr])
        g[te] = m.predict_proba(Xw[te])[:, 1]
    return g

def pu_weights(g, y):
    c = float(np.clip(g[y == 1].mean(), 1e-3, 1.0))
    w = (1 - c) / c * g / np.clip(1 - g, 1e-6, None)
    w = np.clip(w, 0, 1)
    w[y == 1] = 0
    return w, c

out = []
la = float(sys.argv[1]) if len(sys.argv) > 1 else 0.1
for name in SETS:
    for seed in (1, 2, 3):
        s = load_split(name, la=la, seed=seed, data_dir=DATA)
        X, y = s.X_train, s.y_train
        t = time.perf_counter()
        ctrl = BoostedDetector(random_state=seed).fit(X, y)
        a_ctrl = roc_auc_score(s.y_test, ctrl.decision_function(s.X_test))
        t_ctrl = time.perf_counter() - t
        t = time.perf_counter()
        Xw = ctrl._widen(X)  # unsupervised columns (label-free)
        g = oof_g(Xw, y, seed)
        w, c = pu_weights(g, y)
        pick = np.flatnonzero(w > 0.01)
        Xa = np.vstack([X, X[pick]]); ya = np.concatenate([y, np.ones(len(pick), int)])
        sw = np.concatenate([np.where(y == 1, 1.0, 1 - w), w[pick]])
        pu = BoostedDetector(random_state=seed).fit(Xa, ya, sample_weight=sw)
        a_pu = roc_auc_score(s.y_test, pu.decision_function(s.X_test))
        # hidden-anomaly recovery quality
        hidden = (s.y_train_true == 1) & (y == 0)
        rec = roc_auc_score(hidden[y == 0], g[y == 0]) if hidden.any() else float("nan")
        out.append(dict(dataset=name, seed=seed, control=a_ctrl, pu=a_pu, c=c, n_pick=len(pick), wsum=float(w.sum()),
                        n_hidden=int(hidden.sum()), hidden_auc=rec, t_ctrl=t_ctrl, t_pu=time.perf_counter() - t))
        print(json.dumps(out[-1]), flush=True)
import pandas as pd
d = pd.DataFrame(out)
print(d.groupby("dataset")[["control", "pu", "wsum", "n_hidden"]].mean().round(3))
print("mean", d.control.mean(), d.pu.mean(), "diff", (d.pu - d.control).mean())
d.to_csv(f"research/probes/pu/probe_la{la}.csv", index=False)
