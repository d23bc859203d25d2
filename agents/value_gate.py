"""The value gate: synthetic rows join the deployment fit only if held-out labeled anomalies say they pay.

The ``value`` and ``value_unseen`` reward terms (:mod:`hydra_env.value`) estimate, per env step and with
a cheap differentiable proxy, how much one row would raise a cross-fitted detector's held-out AUC. This
gate asks the exact question once per candidate set, of the deployment's own family: CatBoost
(``VALUE_GATE_TREES`` trees on the features plus the IForest/ECOD/k-NN score columns, as
:func:`agents.exposure.holdout_exposure_auc`) is refitted without and with the rows, fold by fold, and
the pooled out-of-fold AUC-ROC is compared on two cuts of the labeled anomalies of the training split
(never the test split):

* random folds (``value``): do the rows help on kinds of anomaly the labels already show?
* k-means groups (``value_unseen``): do they help on a group of anomalies the proxy never saw?

A set joins (at its weight) when it helps somewhere and harms nowhere: on one cut the gain is at least
``VALUE_GATE_MARGIN`` and at least ``VALUE_GATE_Z`` standard errors (``VALUE_GATE_Z_EXPOSURE`` for the
exposure rows; a paired, class-stratified bootstrap of the pooled held-out rows), and neither gain is
negative. The standard error is what the margin alone
missed: with a handful of labeled anomalies (or many unlabeled ones among the normals) a 0.01 gain is
inside the evidence's noise, and such sets cost the deployed detector up to 6 points on the test split
(Waveform's kept rows, InternetAds' exposure rows; the rule was fixed before the tables it runs on were
read, the one-standard-error rule of Breiman et al.'s CART pruning). The candidate sets are the loop's kept rows and,
with ``LoopOptions.exposure_weight`` > 0, the outlier-exposure rows (perturbed from each fold's own
normal rows, so a held-out normal never seeds a synthetic anomaly); each is judged on its own, and when both pass they are judged together too, since the deployment
fit would take both at once (if together they do not pay, the set with the stronger evidence joins
alone). A kept
row joins a fold's fit only if its nearest labeled anomaly is not held out there: the loop made its
rows from every labeled anomaly, and a near-copy of a held-out anomaly would score that anomaly's own
ease as value (oversampling before cross-validation; on a constructed case copies of the labeled
anomalies lifted the held-out AUC from 0.79 to 0.996 without this rule).

Why CatBoost and not the reward's logistic proxies: with those proxies the gate let the value loop's
rows into cells where the deployed CatBoost lost up to 6 points (the first ``swift_hydra_value`` rows
of the ADBench table: Waveform -6.2, Cardiotocography -2.7); a set's worth depends on the detector
that learns from it. Every labeled anomaly is held out once, so the gate uses all of them, where
:func:`agents.deploy.choose_synthetic_weight` sees only the validation carve.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "GateFits",
    "MIN_VALUE_GATE_ANOMALIES",
    "VALUE_GATE_CUTS",
    "VALUE_GATE_FOLDS",
    "VALUE_GATE_MARGIN",
    "VALUE_GATE_TREES",
    "VALUE_GATE_Z",
    "VALUE_GATE_Z_EXPOSURE",
    "choose_weights_by_value",
    "gain_standard_error",
    "value_gains",
]

VALUE_GATE_MARGIN = 0.01
"""Held-out AUC-ROC gain (either cut) a set must bring; half the validation gate's margin, because the
cross-fitted AUC pools every labeled anomaly instead of a carve's handful."""
MIN_VALUE_GATE_ANOMALIES = 2
"""With one labeled anomaly every fold's fit would have none besides the synthetic rows."""
VALUE_GATE_FOLDS = 4
"""Folds of each cut (fewer with fewer distinct labeled anomalies), as the exposure gate's groups."""
VALUE_GATE_TREES = 200
"""Trees of the gate's CatBoost proxy (the deployment fit uses the library default, 1000)."""
VALUE_GATE_Z = 1.0
"""Standard errors of its paired bootstrap a cut's gain must reach (the one-standard-error rule)."""
VALUE_GATE_Z_EXPOSURE = 0.5
"""The same for the outlier-exposure rows (and for both sets together). Chosen on a validation protocol
that replays both tables inside their training splits and never opens a test split
(``research/probes/value/inner.py``; the rule and the criterion were fixed before its cells were read):
of 15 rules it gained most on held-out types among those within the issue's ADBench limits."""
VALUE_GATE_BOOTSTRAP = 200
"""Replicates of the paired bootstrap of the gain."""
VALUE_GATE_CUTS = ("value", "value_unseen")
"""The cuts of the labeled anomalies, named as the reward terms that estimate them per step."""


@dataclass
class GateFits:
    """One training split's gate fits, kept between :func:`value_gains` calls on the same split.

    Attributes:
        columns: The proxy's unsupervised score columns (fitted on the split's rows), or None.
        widened: The split's rows with those columns.
        scores: Held-out scores of each fitted variant, by ``(cut, fold, variant name)``.
    """

    columns: Any = None
    widened: np.ndarray | None = None
    scores: dict[tuple[str, int, str], np.ndarray] = field(default_factory=dict)


def _anomaly_folds(X_anomalies: np.ndarray, cut: str, k: int, seed: int) -> np.ndarray:
    """Fold of each labeled anomaly: random and equal-sized (``value``) or its k-means group."""
    if cut == "value":
        fold = np.empty(len(X_anomalies), dtype=np.int64)
        fold[np.random.RandomState(seed).permutation(len(X_anomalies))] = np.arange(len(X_anomalies)) % k
        return fold
    from sklearn.cluster import KMeans

    return KMeans(k, n_init=10, random_state=seed).fit_predict(X_anomalies)


def _nearest(rows: np.ndarray, anomalies: np.ndarray) -> np.ndarray:
    """Index of each row's nearest labeled anomaly (Euclidean, the training split's scaled space)."""
    from sklearn.neighbors import NearestNeighbors

    if not len(rows):
        return np.zeros(0, dtype=np.int64)
    return NearestNeighbors(n_neighbors=1).fit(anomalies).kneighbors(rows, return_distance=False)[:, 0]


def value_gains(
    X_train: np.ndarray,
    y_train: np.ndarray,
    candidates: dict[str, tuple[np.ndarray | None, float]],
    *,
    seed: int,
    joint: tuple[str, str] | None = None,
    fits: GateFits | None = None,
) -> dict[str, float] | None:
    """Pooled out-of-fold AUC-ROC of the gate's proxy without and with each candidate set, on both cuts.

    Args:
        X_train: The training split's rows (n, d), finite.
        y_train: 1 = labeled anomaly, 0 = normal or unlabeled.
        candidates: ``name -> (rows, weight)``: ``rows`` is a fixed ``(s, d)`` set, or None for the
            outlier-exposure rows, drawn per fold from the fold's own normal rows
            (:func:`agents.perturb.perturbed_normals`); ``weight`` is the set's total weight in labeled
            anomalies, as in the deployment fit (:func:`agents.deploy.synthetic_weights`). A fixed
            row joins a fold's fit only if its nearest labeled anomaly is not held out there: the
            loop made its rows from every labeled anomaly, and a near-copy of a held-out anomaly
            would score as value (oversampling before cross-validation, the classic leak).
        seed: Seed of the folds, the chunks of normal rows, the perturbations and the proxies.
        joint: Two candidate names: also fit with both sets at once (name ``"both"``), stacked and
            weighted as the deployment fit stacks them.
        fits: Filled with this call's score columns and held-out scores, and read where they are
            already there: a second call with the same rows, candidates and seed (say, with ``joint``)
            then fits only its new variants. Every fit is seeded, so its scores are the same either way.

    Returns:
        ``{cut}_auc_without``, ``{cut}_auc_with_{name}`` and ``{cut}_gain_se_{name}`` (the gain's
        standard error, :func:`gain_standard_error`) for both cuts, or None with fewer than two
        distinct labeled anomalies.
    """
    from agents.exposure import holdout_layout
    from detectors.adapters import _import_optional
    from detectors.boosted import BoostedDetector

    layout = holdout_layout(X_train, y_train, VALUE_GATE_FOLDS, seed)
    if layout is None:
        return None
    X, y, anomalies, normals, chunk = layout
    k = int(chunk.max()) + 1
    fits = GateFits() if fits is None else fits
    if fits.columns is None:
        fits.columns = BoostedDetector(booster="catboost", random_state=seed).fit_scorers(X)
        fits.widened = fits.columns.widen(X)
    columns, W = fits.columns, fits.widened
    catboost = _import_optional("catboost", "the value gate")
    derived_from = {  # each fixed row's nearest labeled anomaly: the one it was most likely made from
        name: _nearest(np.asarray(rows, dtype=np.float64).reshape(-1, X.shape[1]), X[anomalies])
        for name, (rows, _) in candidates.items()
        if rows is not None
    }
    evidence: dict[str, float] = {}
    for cut in VALUE_GATE_CUTS:
        fold = _anomaly_folds(X[anomalies], cut, k, seed)
        scores: dict[str, list[np.ndarray]] = {
            name: [] for name in ("without", *candidates, *(["both"] if joint else []))
        }
        labels = []
        for g in range(k):
            held_out = np.r_[anomalies[fold == g], normals[chunk == g]]
            fit = np.setdiff1d(np.arange(len(y)), held_out)
            variants = _fold_variants(X[fit], y[fit], candidates, derived_from, fold != g, seed + g, joint)
            for name, (extra, parts) in variants.items():
                if (cut, g, name) not in fits.scores:
                    proxy = _fit_proxy(catboost, columns, W[fit], y[fit], extra, parts, seed)
                    fits.scores[cut, g, name] = proxy.predict_proba(W[held_out])[:, 1]
                scores[name].append(fits.scores[cut, g, name])
            labels.append(y[held_out])
        evidence |= _cut_evidence(cut, np.concatenate(labels), scores, seed)
    return evidence


def _fold_variants(
    X_fit: np.ndarray,
    y_fit: np.ndarray,
    candidates: dict[str, tuple[np.ndarray | None, float]],
    derived_from: dict[str, np.ndarray],
    anomaly_in_fit: np.ndarray,
    seed: int,
    joint: tuple[str, str] | None = None,
) -> dict[str, tuple[np.ndarray, tuple[tuple[int, float], ...]]]:
    """One fold's extra rows per candidate set (``"without"``: none), with the set's ``((rows, weight),)``.

    Args:
        anomaly_in_fit: Per labeled anomaly, whether this fold fits on it.
        joint: Two candidate names: variant ``"both"`` stacks their rows, in the deployment fit's order.
    """
    from agents.perturb import perturbed_normals

    variants: dict[str, tuple[np.ndarray, tuple[tuple[int, float], ...]]] = {"without": (X_fit[:0], ())}
    for name, (rows, weight) in candidates.items():
        if rows is None:
            extra = perturbed_normals(X_fit, y_fit, seed=seed)
        else:  # a row made from a held-out anomaly would leak it into the fit (its twin)
            extra = np.asarray(rows, dtype=np.float64).reshape(-1, X_fit.shape[1])
            extra = extra[anomaly_in_fit[derived_from[name]]]
        variants[name] = (np.asarray(extra, dtype=np.float64), ((len(extra), weight),))
    if joint:
        (first, first_parts), (second, second_parts) = (variants[name] for name in joint)
        variants["both"] = (np.vstack([first, second]), first_parts + second_parts)
    return variants


def _fit_proxy(
    catboost,
    columns,
    W_fit: np.ndarray,
    y_fit: np.ndarray,
    extra: np.ndarray,
    parts: tuple[tuple[int, float], ...],
    seed: int,
):
    """The gate's CatBoost proxy on one fold's widened rows, plus ``extra`` as weighted anomalies.

    ``parts``: ``(rows, weight)`` of each set stacked in ``extra``, in order (at most two, as the deployment
    fit's kept rows then exposure rows; :func:`agents.deploy.synthetic_weights`).
    """
    from agents.deploy import synthetic_weights

    proxy = catboost.CatBoostClassifier(
        iterations=VALUE_GATE_TREES, verbose=0, random_seed=seed, thread_count=1, allow_writing_files=False
    )
    if not len(extra):
        return proxy.fit(W_fit, y_fit)
    return proxy.fit(
        np.vstack([W_fit, columns.widen(extra)]),
        np.r_[y_fit, np.ones(len(extra), dtype=np.int64)],
        sample_weight=synthetic_weights(y_fit, *(value for part in parts for value in part)),
    )


def _cut_evidence(
    cut: str, labels: np.ndarray, scores: dict[str, list[np.ndarray]], seed: int
) -> dict[str, float]:
    """Pooled AUC-ROC without and with each candidate set on one cut, and each gain's standard error."""
    from sklearn.metrics import roc_auc_score

    without = np.concatenate(scores["without"])
    evidence = {f"{cut}_auc_without": float(roc_auc_score(labels, without))}
    for name, parts in scores.items():
        if name == "without":
            continue
        with_ = np.concatenate(parts)
        evidence[f"{cut}_auc_with_{name}"] = float(roc_auc_score(labels, with_))
        evidence[f"{cut}_gain_se_{name}"] = gain_standard_error(labels, without, with_, seed)
    return evidence


def _aucs(labels: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """AUC-ROC of each row of ``scores`` (B, n) against ``labels`` (B, n) (Mann-Whitney, ties halved)."""
    from scipy.stats import rankdata

    ranks = rankdata(scores, axis=1)
    n_pos = labels.sum(axis=1)
    n_neg = labels.shape[1] - n_pos
    return ((ranks * labels).sum(axis=1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def gain_standard_error(labels: np.ndarray, without: np.ndarray, with_: np.ndarray, seed: int) -> float:
    """Standard error of ``AUC(with_) - AUC(without)`` on the same rows: a paired bootstrap.

    Anomalies and normals are resampled separately (their counts fixed), ``VALUE_GATE_BOOTSTRAP`` times;
    both score vectors are read on the same resampled rows, so what the two proxies share cancels.
    """
    labels = np.asarray(labels)
    positives, negatives = np.flatnonzero(labels == 1), np.flatnonzero(labels != 1)
    if len(positives) < 2 or len(negatives) < 2:
        return float("inf")
    rng = np.random.default_rng(seed)
    shape = (VALUE_GATE_BOOTSTRAP,)
    rows = np.hstack([
        rng.choice(positives, (*shape, len(positives))), rng.choice(negatives, (*shape, len(negatives)))
    ])  # fmt: skip
    resampled = np.broadcast_to(labels[rows[0]], rows.shape)  # every replicate keeps the class counts
    gains = _aucs(resampled, np.asarray(with_)[rows]) - _aucs(resampled, np.asarray(without)[rows])
    return float(np.std(gains, ddof=1))


def _z(name: str) -> float:
    """Standard errors candidate ``name`` must show: the exposure rows' bar, the kept rows', or (``"both"``)
    the lower of the two, since the union is asked what each of its sets was asked."""
    return {"exposure": VALUE_GATE_Z_EXPOSURE, "both": min(VALUE_GATE_Z, VALUE_GATE_Z_EXPOSURE)}.get(
        name, VALUE_GATE_Z
    )


def _pays(gains: list[float], standard_errors: list[float], z: float = VALUE_GATE_Z) -> bool:
    """Helps on one cut by the margin and by ``z`` standard errors, harms on neither."""
    if not all(np.isfinite(gains)):
        return False
    shown = [g >= VALUE_GATE_MARGIN and g >= z * se for g, se in zip(gains, standard_errors, strict=True)]
    return bool(any(shown) and min(gains) >= 0.0)


def _gains(aucs: dict[str, float], name: str) -> tuple[list[float], list[float]]:
    """Candidate ``name``'s gain on each cut, and each gain's standard error."""
    gains = [aucs[f"{cut}_auc_with_{name}"] - aucs[f"{cut}_auc_without"] for cut in VALUE_GATE_CUTS]
    return gains, [aucs[f"{cut}_gain_se_{name}"] for cut in VALUE_GATE_CUTS]


def _best_z(gains: list[float], errors: list[float]) -> float:
    """The best cut's gain in standard errors (a gain with no spread: +-inf by its sign)."""
    return max(
        g / se if se > 0 else (np.inf if g > 0 else -np.inf) for g, se in zip(gains, errors, strict=True)
    )


def _judge_together(
    X_train: np.ndarray,
    y_train: np.ndarray,
    candidates: dict[str, tuple[np.ndarray | None, float]],
    weights: dict[str, float],
    seed: int,
    fits: GateFits,
) -> tuple[dict[str, float], dict[str, Any]]:
    """Kept and exposure rows that each pay alone join together only if together they pay too.

    Each set was judged alone, but the deployment fit would take both at once: the rule asks of that fit
    what it asks of each set. If together they do not pay, the set with the stronger evidence alone (its
    best cut's gain in standard errors) joins by itself. Returns the weights and the joint evidence.
    ``fits`` holds the sets' fits alone, so only the joint fits run here.
    """
    aucs = value_gains(X_train, y_train, candidates, seed=seed, joint=("kept", "exposure"), fits=fits)
    evidence: dict[str, Any] = {}
    for cut in VALUE_GATE_CUTS:
        evidence[f"{cut}_auc_with_both"] = aucs[f"{cut}_auc_with_both"]
        evidence[f"{cut}_gain_se_both"] = aucs[f"{cut}_gain_se_both"]
    if _pays(*_gains(aucs, "both"), _z("both")):
        return weights, evidence | {"joint_rule": "both"}
    stronger = max(("kept", "exposure"), key=lambda name: _best_z(*_gains(aucs, name)))
    kept = {name: (weight if name == stronger else 0.0) for name, weight in weights.items()}
    return kept, evidence | {"joint_rule": stronger}


def choose_weights_by_value(
    X_train: np.ndarray,
    y_train: np.ndarray,
    kept: np.ndarray,
    *,
    synthetic_weight: float,
    exposure_weight: float = 0.0,
    seed: int,
) -> tuple[float, float, dict[str, Any]]:
    """The weights of the kept rows and of the outlier-exposure rows that pay (else 0), and the evidence.

    Args:
        X_train: The training split's rows.
        y_train: Their labels (1 = labeled anomaly).
        kept: ``(s, d)`` synthetic anomalies kept by the loop; empty: nothing to judge.
        synthetic_weight: Their weight if they pay.
        exposure_weight: The exposure rows' weight if they pay; 0: they are not a candidate.
        seed: Seed of the gate (:func:`value_gains`).

    Returns:
        ``(synthetic_weight or 0, exposure_weight or 0, evidence)``: the evidence holds
        ``value_auc_without``, ``value_auc_with`` and ``value_gain_se`` (kept rows: the gain's
        bootstrap standard error), the same for ``value_unseen``, and ``*_auc_with_exposure`` and
        ``*_gain_se_exposure`` when the exposure rows were judged; None where the gate did not run.
        When both sets pay alone they are judged together too (``*_auc_with_both``, ``*_gain_se_both``,
        ``joint_rule``: ``"both"``, or the one set that joins alone; see :func:`_judge_together`).
    """
    kept = np.asarray(kept, dtype=np.float64).reshape(-1, np.shape(X_train)[1])
    candidates: dict[str, tuple[np.ndarray | None, float]] = {}
    if len(kept) and synthetic_weight:
        candidates["kept"] = (kept, float(synthetic_weight))
    if exposure_weight:
        candidates["exposure"] = (None, float(exposure_weight))
    keys = [f"{cut}_{v}" for cut in VALUE_GATE_CUTS for v in ("auc_without", "auc_with", "gain_se")]
    if "exposure" in candidates:
        keys += [f"{cut}_{v}_exposure" for cut in VALUE_GATE_CUTS for v in ("auc_with", "gain_se")]
    if len(candidates) == 2:  # filled only when both sets pay alone (`_judge_together`)
        keys += [f"{cut}_{v}_both" for cut in VALUE_GATE_CUTS for v in ("auc_with", "gain_se")] + [
            "joint_rule"
        ]
    evidence: dict[str, Any] = dict.fromkeys(keys)
    too_few = int(np.sum(np.asarray(y_train) == 1)) < MIN_VALUE_GATE_ANOMALIES
    fits = GateFits()
    aucs = (
        None if too_few or not candidates else value_gains(X_train, y_train, candidates, seed=seed, fits=fits)
    )
    if aucs is None:
        return 0.0, 0.0, evidence
    weights = {
        name: weight if _pays(*_gains(aucs, name), _z(name)) else 0.0
        for name, (_, weight) in candidates.items()
    }
    if weights.get("kept") and weights.get("exposure"):
        weights, joint = _judge_together(X_train, y_train, candidates, weights, seed, fits)
        evidence |= joint
    for cut in VALUE_GATE_CUTS:
        evidence[f"{cut}_auc_without"] = aucs[f"{cut}_auc_without"]
        evidence[f"{cut}_auc_with"] = aucs.get(f"{cut}_auc_with_kept")
        evidence[f"{cut}_gain_se"] = aucs.get(f"{cut}_gain_se_kept")
        if "exposure" in candidates:
            evidence[f"{cut}_auc_with_exposure"] = aucs[f"{cut}_auc_with_exposure"]
            evidence[f"{cut}_gain_se_exposure"] = aucs[f"{cut}_gain_se_exposure"]
    return weights.get("kept", 0.0), weights.get("exposure", 0.0), evidence
