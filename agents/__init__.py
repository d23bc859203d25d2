"""agents: the closed Swift Hydra loop driven by any generation policy, and ``swift-hydra train``.

Public API (imported lazily, so ``import agents`` stays light):

* :func:`agents.loop.fit_swift_hydra` - Swift Hydra as a detector factory (benchmark runner);
* :func:`agents.experiment.run` - a full run with its run directory and the no-augmentation control;
* :class:`agents.config.TrainConfig`, :class:`agents.config.Budget`, :data:`agents.config.BUDGETS`;
* :func:`agents.registry.make_policy`, :data:`agents.registry.ALGO_CHOICES`.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "fit_swift_hydra": "agents.loop",
    "swift_hydra_loop": "agents.loop",
    "run": "agents.experiment",
    "TrainConfig": "agents.config",
    "Budget": "agents.config",
    "BUDGETS": "agents.config",
    "get_budget": "agents.config",
    "make_policy": "agents.registry",
    "load_policy": "agents.registry",
    "ALGO_CHOICES": "agents.registry",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'agents' has no attribute {name!r}")
