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
]
# name -> [(file, text, replacement)]
BUGS: dict[str, list[tuple[str, str, str]]] = {
    "1-deploy-ignores-kept": [
        (
            "agents/loop.py",
            "X_deploy, y_deploy = _combined(X_train, y_train, state.kept_X)",
            "X_deploy, y_deploy = X_train, y_train",
        )
    ],
    "2-inloop-ignores-kept": [
        (
            "agents/loop.py",
            "state.detector.fit(X_aug, y_aug, warm_start=True)",
            "state.detector.fit(X_fit, y_fit, warm_start=True)",
        )
    ],
    "3-env-sees-validation": [
        ("agents/loop.py", "make_env(\n        X_fit, y_fit,", "make_env(\n        X_train, y_train,")
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
            "benchmarks/adbench.py",
            'fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")\n'
            '        try:\n            with os.fdopen(fd, "w", newline="") as fh:',
            'try:\n            with open(self.path, "w", newline="") as fh:',
        ),
        (
            "benchmarks/adbench.py",
            "            os.replace(tmp, self.path)\n        except BaseException:\n"
            "            Path(tmp).unlink(missing_ok=True)",
            "        except BaseException:\n            pass",
        ),
    ],
    "6-mome-expert-0": [
        (
            "detectors/moe.py",
            "        choice, gate_prob = self.route(z)\n",
            "        choice, gate_prob = self.route(z)\n        choice = torch.zeros_like(choice)\n",
        )
    ],
    "7-decode-normal-label": [
        (
            "hydra_env/core.py",
            "self.vae.decode_torch(torch.from_numpy(z).to(self.device), 1)",
            "self.vae.decode_torch(torch.from_numpy(z).to(self.device), 0)",
        )
    ],
    "8-miss-equals-p": [("hydra_env/core.py", "miss = 1.0 - p", "miss = p")],
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
