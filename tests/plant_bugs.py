"""Plants each bug of issue 17 in a copy of the checkout and runs the tests that must catch it.

Not a test module (pytest does not collect it); run by hand, outside CI, from the checkout root::

    python -m tests.plant_bugs            # every bug, with and without the ADBench files
    python -m tests.plant_bugs 6-mome-expert-0

Each bug is a text substitution in one source file; when a refactor moves the code, the script stops
with the name of the bug whose text it no longer finds: update the substitution. Results go to
``tests/MUTATIONS.md`` by hand.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = os.environ.get("SWIFT_HYDRA_DATA") or str(
    ROOT.parent / "shared" / "datasets" / "adbench" / "Classical"
)
TESTS = [
    "tests/agents/test_invariants.py",
    "tests/hydra_env/test_reward_semantics.py",
    "tests/detectors/test_moe_routing.py",
    "tests/benchmarks/test_atomic_results.py",
    "tests/agents/test_deploy.py",
    "tests/agents/test_value_gate.py",
    "tests/hydra_env/test_value.py",
    "tests/detectors/test_single.py",
]
# name -> [(file, text, replacement)]
BUGS: dict[str, list[tuple[str, str, str]]] = {
    "1-deploy-ignores-kept": [
        (
            "agents/loop.py",
            "self.options.deploy, X_train, y_train, state.kept_X, budget=self.budget, seed=self.seed,",
            "self.options.deploy, X_train, y_train, state.kept_X[:0], budget=self.budget, seed=self.seed,",
        )
    ],
    "2-inloop-ignores-kept": [
        (
            "hydra_env/rounds.py",
            "self.detector.fit(X_aug, y_aug, warm_start=self.warm_start)",
            "self.detector.fit(self.X_base, self.y_base, warm_start=self.warm_start)",
        )
    ],
    "3-env-sees-validation": [
        (
            "agents/loop.py",
            "vector_env = make_env(run.X_fit, run.y_fit, state.vae,",
            "vector_env = make_env(X_train, y_train, state.vae,",
        )
    ],
    "4-test-auc-on-train": [
        (
            "agents/experiment.py",
            "auc_scores(split.y_test, result.detector.decision_function(split.X_test))",
            "auc_scores(split.y_train, result.detector.decision_function(split.X_train))",
        )
    ],
    "5-resultstore-in-place": [
        (
            "benchmarks/common.py",
            "            merged[key] = clean\n            self._added.add(key)\n            self.rows = merged\n"
            "            atomic_write(self.path, self._write)",
            "            merged[key] = clean\n            self._added.add(key)\n            self.rows = merged\n"
            "            self._write(self.path)",
        )
    ],
    "6-mome-expert-0": [
        (
            "detectors/moe_network.py",
            "        choice, gate_prob = self.route(z)\n",
            "        choice, gate_prob = self.route(z)\n        choice = torch.zeros_like(choice)\n",
        ),
        (
            "detectors/moe_network.py",
            "        k = max(range(self.n_experts), key=logits.__getitem__)\n",
            "        k = 0\n",
        ),
    ],
    "7-decode-normal-label": [
        (
            "hydra_env/core.py",
            "self.vae.decode_torch(torch.from_numpy(z).to(self.device), 1)",
            "self.vae.decode_torch(torch.from_numpy(z).to(self.device), 0)",
        )
    ],
    "8-miss-on-the-wrong-side": [
        (
            "hydra_env/rewards.py",
            "return 1.0 - _share_below(self.ref_logits.to(p.dtype), _logit(p))",
            "return _share_below(self.ref_logits.to(p.dtype), _logit(p))",
        )
    ],
    "9-gate-always-accepts": [
        (
            "agents/deploy.py",
            'helps = evidence["val_auc_with"] >= evidence["val_auc_without"] + GATE_MARGIN',
            "helps = True",
        )
    ],
    "10-value-gate-always-accepts": [
        (
            "agents/value_gate.py",
            "return bool(any(shown) and min(gains) >= 0.0)",
            "return True",
        )
    ],
    "11-value-gate-keeps-the-twins": [
        (
            "agents/value_gate.py",
            "extra = extra[anomaly_in_fit[derived_from[name]]]",
            "extra = extra",
        )
    ],
    "12-value-reward-pays-the-twins": [
        (
            "hydra_env/value.py",
            "return (fold_values * allowed).sum(dim=1) / allowed.sum(dim=1).clamp_min(1.0)",
            "return fold_values.mean(dim=1)",
        )
    ],
    "13-stale-eval-head": [
        (
            "detectors/single.py",
            "key = (n_tokens, weight.data_ptr(), weight._version, bias.data_ptr(), bias._version)",
            "key = (n_tokens,)",
        )
    ],
}


def plant(name: str, dst: Path) -> None:
    """Copies the checkout to ``dst`` and applies bug ``name`` there."""
    shutil.copytree(ROOT, dst, ignore=shutil.ignore_patterns(".git", "__pycache__", ".venv", "runs"))
    for rel, old, new in BUGS[name]:
        path = dst / rel
        text = path.read_text()
        if text.count(old) != 1:
            raise SystemExit(f"{name}: the text to replace is not (exactly once) in {rel}; update BUGS")
        path.write_text(text.replace(old, new))


def failing_tests(copy: Path, with_data: bool) -> list[str]:
    """Runs :data:`TESTS` in ``copy``; returns the ids of the failing tests."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(copy)}
    env.pop("SWIFT_HYDRA_DATA", None)
    env.pop("SWIFT_HYDRA_REQUIRE_DATA", None)
    if with_data:
        env["SWIFT_HYDRA_DATA"] = DATA
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TESTS]
    out = subprocess.run(cmd, cwd=copy, env=env, capture_output=True, text=True).stdout
    return sorted({line.split()[1] for line in out.splitlines() if line.startswith("FAILED")})


def main(names: list[str]) -> int:
    missed = []
    for name in names or list(BUGS):
        with tempfile.TemporaryDirectory(prefix=f"mut-{name}-") as tmp:
            copy = Path(tmp) / "checkout"
            plant(name, copy)
            for with_data in (True, False):
                failed = failing_tests(copy, with_data)
                print(f"{name} (data {'set' if with_data else 'unset'}): {len(failed)} failing", flush=True)
                for test in failed:
                    print(f"    {test}", flush=True)
                if not failed:
                    missed.append(name)
    if missed:
        print(f"NOT CAUGHT: {sorted(set(missed))}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
