"""The value gate: kept synthetic rows join the deployment fit only if the value proxies say they pay.

The ``value`` and ``value_unseen`` reward terms (:mod:`hydra_env.value`) estimate, per env step, how
much one row would raise a cross-fitted proxy's held-out AUC. This gate asks the same proxies the
exact question once, for the whole set of kept rows: the proxies are refitted with the rows and
their held-out AUC-ROC is compared with the AUC without them, on two cuts of the labeled anomalies
of the training split (never the test split):

* random folds (``value``): does the set help on kinds of anomaly the labels already show?
* k-means groups (``value_unseen``): does it help on a group of anomalies the proxy never saw?

The rows join (at ``synthetic_weight``) when they help somewhere and harm nowhere: the larger gain is
at least ``VALUE_GATE_MARGIN`` and neither gain is negative. So the loop's selection (the rows the
value reward ranks highest) and its deployment gate use one estimate. Every labeled anomaly is held
out once, so the gate uses all of them, where :func:`agents.deploy.choose_synthetic_weight` sees only
the validation carve (and cannot act below two labeled anomalies there).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch

__all__ = ["MIN_VALUE_GATE_ANOMALIES", "VALUE_GATE_MARGIN", "choose_weight_by_value", "value_gains"]

VALUE_GATE_MARGIN = 0.01
"""Held-out AUC-ROC gain (either cut) the kept rows must bring; half the validation gate's margin,
because the cross-fitted AUC pools every labeled anomaly instead of a carve's handful."""
MIN_VALUE_GATE_ANOMALIES = 2
"""With one labeled anomaly every fold's fit would have none besides the synthetic rows."""


def value_gains(
    X_train: np.ndarray, y_train: np.ndarray, kept: np.ndarray, *, seed: int, k: int = 3
) -> dict[str, float]:
    """Held-out AUC-ROC of the value proxies without and with ``kept``, on both cuts.

    Args:
        X_train: The training split's rows (label 1 = labeled anomaly; 0 = normal or unlabeled).
        y_train: Their labels.
        kept: ``(s, d)`` synthetic anomalies.
        seed: Seed of the normals' subsample (as the env's reference normals).
        k: Neighbours of the proxies' distance column (the env's ``entropy_k``).

    Returns:
        ``value_auc_without``, ``value_auc_with``, ``value_unseen_auc_without``, ``value_unseen_auc_with``.
    """
    from hydra_env.core import reference_normals
    from hydra_env.value import UnseenValueTerm, ValueTerm

    X_train, y_train = np.asarray(X_train, dtype=np.float32), np.asarray(y_train)
    normals = torch.as_tensor(reference_normals(SimpleNamespace(X_train=X_train, y_train=y_train), seed))
    anomalies = torch.as_tensor(X_train[y_train == 1])
    rows = torch.as_tensor(np.asarray(kept, dtype=np.float32).reshape(-1, X_train.shape[1]))
    evidence: dict[str, float] = {}
    for term_cls in (ValueTerm, UnseenValueTerm):
        term = term_cls(normals, anomalies, k, torch.device("cpu"))
        evidence[f"{term.name}_auc_without"] = term.held_out_auc()
        term.add_anomalies(rows)
        evidence[f"{term.name}_auc_with"] = term.held_out_auc()
    return evidence


def choose_weight_by_value(
    X_train: np.ndarray,
    y_train: np.ndarray,
    kept: np.ndarray,
    *,
    synthetic_weight: float,
    seed: int,
    k: int = 3,
) -> tuple[float, dict[str, float | None]]:
    """``synthetic_weight`` if the kept rows pay on the value proxies (see the module docstring), else 0.

    Returns the weight and the evidence (:func:`value_gains`; None where the gate did not run).
    """
    names = ("value_auc_without", "value_auc_with", "value_unseen_auc_without", "value_unseen_auc_with")
    evidence: dict[str, float | None] = dict.fromkeys(names)
    y_train = np.asarray(y_train)
    if len(kept) == 0 or synthetic_weight == 0 or int(y_train.sum()) < MIN_VALUE_GATE_ANOMALIES:
        return 0.0, evidence
    evidence.update(value_gains(X_train, y_train, kept, seed=seed, k=k))
    gains = [
        evidence[f"{cut}_auc_with"] - evidence[f"{cut}_auc_without"] for cut in ("value", "value_unseen")
    ]
    if not all(np.isfinite(gains)):
        return 0.0, evidence
    pays = max(gains) >= VALUE_GATE_MARGIN and min(gains) >= 0.0
    return (float(synthetic_weight) if pays else 0.0), evidence
