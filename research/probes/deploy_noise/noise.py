import sys, json, numpy as np, torch

torch.set_num_threads(1)
from sklearn.metrics import roc_auc_score
from agents.config import get_budget
from agents.deploy import make_deploy_detector
from hydra_env import datasets

DD = "/work/shared/datasets/adbench/Classical"
sets = sys.argv[1].split(",")
out = []
b = get_budget("tiny")
for ds in sets:
    X, y = datasets.load(ds, data_dir=DD)
    for s in [1, 2, 3, 4, 5]:
        sp = datasets.adbench_split(X, y, 0.1, s)
        aucs = []
        for off in [0, 1000, 2000]:
            det = make_deploy_detector("mome", b, s + off).fit(sp.X_train, sp.y_train)
            aucs.append(roc_auc_score(sp.y_test, det.decision_function(sp.X_test)))
        out.append({"ds": ds, "seed": s, "aucs": aucs})
        print(ds, s, np.round(np.array(aucs) * 100, 2), flush=True)
json.dump(out, open(sys.argv[2], "w"))
