"""Training-loop levers for the MoME probe (session of 2026-12-07): a probe-only subclass, not the package.

``LeverMoME`` is `detectors.MambaMoEDetector` with three knobs, each off by default so that with none
set it fits exactly what the tables' MoME fitted before this session:

- ``pos_weight_power``: the class weight of a labeled anomaly is ``(n_normal / n_anomaly) ** power``
  (1 = the package's balanced BCE; 0 = unweighted, as the runner's CatBoost fits). With 7 labeled
  anomalies among 2400 rows the balanced weight is ~340, so every minibatch that holds one is
  dominated by it (and clipped); a smaller power spends more of the steps on the normal rows' shape.
- ``cosine``: the learning rate decays to 0 over the fit's steps on a cosine (the fixed-budget schedule
  of most tabular deep-learning recipes; the package keeps a constant rate).
- ``average_from``: the fitted weights are the mean of the weights at the end of each epoch from this
  fraction of the epochs on (stochastic weight averaging, Izmailov et al. 2018). The probe chose it, so
  it is now the package's ``average_weights_from``, which this passes on.

The levers use the package loop's hooks (`_label_loss`, `_make_optimizer`), so the loop, the shuffles and
the steps are the package's. The jsonl rows of ``t_pw*``, ``t_cos`` and ``t_swa*`` were written by an
earlier copy of that loop in this file; the hooks reproduce them (checked on one cell of each).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from detectors import MambaMoEDetector


class _CosineAdamW(torch.optim.AdamW):
    """AdamW whose rate follows ``lr * (1 + cos(pi * step / total)) / 2``, set before each step."""

    def __init__(self, params, *, lr: float, total_steps: int, **kwargs) -> None:
        super().__init__(params, lr=lr, **kwargs)
        self.base_lr, self.total_steps, self.steps_taken = lr, total_steps, 0

    def step(self, closure=None):
        for group in self.param_groups:
            group["lr"] = self.base_lr * 0.5 * (1 + math.cos(math.pi * self.steps_taken / self.total_steps))
        self.steps_taken += 1
        return super().step(closure)


class LeverMoME(MambaMoEDetector):
    """`MambaMoEDetector` plus the probe's training levers (see the module docstring)."""

    def __init__(self, *, pos_weight_power=1.0, cosine=False, average_from=None, **kwargs) -> None:
        super().__init__(average_weights_from=average_from, **kwargs)
        self.pos_weight_power = pos_weight_power
        self.cosine = cosine
        self.average_from = average_from

    @classmethod
    def _get_param_names(cls):
        return sorted({*MambaMoEDetector._get_param_names(), "pos_weight_power", "cosine", "average_from"})

    def _label_loss(self, logits, yb, pos_weight):
        return F.binary_cross_entropy_with_logits(logits, yb, pos_weight=pos_weight**self.pos_weight_power)

    def _make_optimizer(self, net, epochs, steps_per_epoch):
        if not self.cosine:
            return super()._make_optimizer(net, epochs, steps_per_epoch)
        return _CosineAdamW(
            net.parameters(), lr=self.lr, weight_decay=self.weight_decay, total_steps=epochs * steps_per_epoch
        )
