"""Prints the table of README.md from probe_la0.1.csv: `python -m research.probes.pu.summarize`."""
from pathlib import Path

import pandas as pd

d = pd.read_csv(Path(__file__).with_name("probe_la0.1.csv"))
g = d.groupby("dataset").agg(control=("control", "mean"), pu=("pu", "mean"), hidden=("n_hidden", "mean"),
                             g_auc=("hidden_auc", "mean"))
print("| dataset | control | PU-weighted | diff (points) | hidden anomalies | AUC of g on them |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for name, r in g.iterrows():
    print(f"| {name} | {100 * r.control:.1f} | {100 * r.pu:.1f} | {100 * (r.pu - r.control):+.1f} | {r.hidden:.0f} | {r.g_auc:.2f} |")
print(f"| **mean** | {100 * g.control.mean():.1f} | {100 * g.pu.mean():.1f} | **{100 * (g.pu - g.control).mean():+.1f}** | | |")
print(f"\nc estimated: {d.c.min():.3f}-{d.c.max():.3f}")
