import sys, time, json, os, numpy as np
import torch

torch.set_num_threads(1)
from hydra_env import datasets
from hydra_env.rewards import Reward
from hydra_env.core import reference_normals
from agents.loop import swift_hydra_loop
from agents.config import LoopOptions

DD = "/work/shared/datasets/adbench/Classical"
sets = sys.argv[1].split(",")
budget = sys.argv[2]
algo = sys.argv[3]
out = sys.argv[4]
os.makedirs(out, exist_ok=True)
for ds in sets:
    for seed in (1, 2, 3):
        f = f"{out}/{ds}_{seed}.npz"
        if os.path.exists(f):
            continue
        X, y = datasets.load(ds, data_dir=DD)
        sp = datasets.adbench_split(X, y, 0.1, seed)
        t = time.time()
        r = swift_hydra_loop(
            sp.X_train,
            sp.y_train,
            algo=algo,
            budget=budget,
            seed=seed,
            options=LoopOptions(deploy="lightgbm", min_novelty=0.0),
        )
        dt = time.time() - t
        rw = Reward({"novelty": 1.0}, reference_normals(sp, seed), sp.X_train[sp.y_train == 1])
        with torch.inference_mode():
            xk = torch.as_tensor(r.kept_X)
            _, vals = rw(xk, torch.zeros(len(xk)))
        nov = vals["novelty"].numpy() if len(xk) else np.zeros(0)
        np.savez(f, kept=r.kept_X, novelty=nov, seconds=dt)
        print(
            ds,
            seed,
            round(dt, 1),
            len(r.kept_X),
            "novelty mean",
            round(float(nov.mean()), 3) if len(nov) else None,
            flush=True,
        )
