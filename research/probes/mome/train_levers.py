"""Training-loop levers for the MoME probe (session of 2026-12-07): a probe-only subclass, not the package.

``LeverMoME`` is `detectors.MambaMoEDetector` with three extra knobs, each off by default so that with
none set it fits exactly what the tables' MoME fits:

- ``pos_weight_power``: the class weight of a labeled anomaly is ``(n_normal / n_anomaly) ** power``
  (1 = the package's balanced BCE; 0 = unweighted, as the runner's CatBoost fits). With 7 labeled
  anomalies among 2400 rows the balanced weight is ~340, so every minibatch that holds one is
  dominated by it (and clipped); a smaller power spends more of the steps on the normal rows' shape.
- ``cosine``: the learning rate decays to 0 over the fit's steps on a cosine (the fixed-budget schedule
  of most tabular deep-learning recipes; the package keeps a constant rate).
- ``average_from``: the fitted weights are the mean of the weights at the end of each epoch from this
  fraction of the epochs on (stochastic weight averaging, Izmailov et al. 2018): flatter optima, no
  cost at inference.

The loop is the package's `BaseTorchDetector._train` without the validation branch (the tables' MoME
has ``validation_fraction=0``), so it is the same loop, the same shuffles and the same steps.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from detectors import MambaMoEDetector


class LeverMoME(MambaMoEDetector):
    """`MambaMoEDetector` plus the probe's training levers (see the module docstring)."""

    def __init__(self, *, pos_weight_power=1.0, cosine=False, average_from=None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.pos_weight_power = pos_weight_power
        self.cosine = cosine
        self.average_from = average_from

    @classmethod
    def _get_param_names(cls):
        return sorted({*MambaMoEDetector._get_param_names(), "pos_weight_power", "cosine", "average_from"})

    def _label_loss(self, logits, yb, pos_weight):
        return F.binary_cross_entropy_with_logits(logits, yb, pos_weight=pos_weight**self.pos_weight_power)

    def _train(self, X, y, train_idx, val_idx, extras, epochs, seed) -> float:
        if len(val_idx):
            raise ValueError("LeverMoME probes the tables' MoME: validation_fraction must be 0")
        dev, net = self.device_, self.network_
        Xt = torch.as_tensor(X[train_idx], dtype=torch.float32, device=dev)
        yt = torch.as_tensor(y[train_idx], dtype=torch.float32, device=dev)
        extras = {k: v.to(dev) for k, v in extras.items()}
        n_pos = float(yt.sum())
        pos_weight_value = (len(yt) - n_pos) / n_pos
        pos_weight = torch.tensor(pos_weight_value, device=dev)
        optimizer = torch.optim.AdamW(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        shuffle = torch.Generator().manual_seed(seed)
        batch = max(1, min(self.batch_size, len(yt)))
        steps_per_epoch = math.ceil(min(len(yt), (self.max_steps_per_epoch or 10**9) * batch) / batch)
        total_steps, step = epochs * steps_per_epoch, 0
        first_averaged = None if self.average_from is None else int(np.floor(self.average_from * epochs))
        averaged, n_averaged = None, 0
        for epoch in range(epochs):
            net.train()
            order = torch.randperm(len(yt), generator=shuffle).to(dev)
            if self.max_steps_per_epoch is not None:
                order = order[: self.max_steps_per_epoch * batch]
            for start in range(0, len(order), batch):
                if self.cosine:
                    for group in optimizer.param_groups:
                        group["lr"] = self.lr * 0.5 * (1 + math.cos(math.pi * step / total_steps))
                rows = order[start : start + batch]
                loss = self._batch_loss(
                    net, Xt[rows], yt[rows], {k: v[rows] for k, v in extras.items()}, pos_weight
                )
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                nn.utils.clip_grad_norm_(net.parameters(), 1.0)
                optimizer.step()
                step += 1
            if first_averaged is not None and epoch >= first_averaged:
                state = {k: v.detach().clone() for k, v in net.state_dict().items()}
                if averaged is None:
                    averaged, n_averaged = state, 1
                else:
                    n_averaged += 1
                    for k, v in state.items():
                        if v.is_floating_point():
                            averaged[k] += (v - averaged[k]) / n_averaged
        if averaged is not None:
            net.load_state_dict(averaged)
        return pos_weight_value**self.pos_weight_power
