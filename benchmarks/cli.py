"""The ``swift-hydra`` command line.

It lives in ``benchmarks`` because this is the one package allowed to import all the others
(``detectors`` <- ``hydra_env`` <- ``agents`` <- ``benchmarks``). Each subcommand's module is imported
only when that subcommand runs, so ``swift-hydra datasets list`` never pays for SB3 or the runner.

Subcommands:
    train      run the closed Swift Hydra loop (``agents.train``)
    datasets   list, inspect and download ADBench datasets (``hydra_env.datasets_cli``)
    bench      benchmarks: ``adbench``, ``unseen``, ``policies``, ``detector-speed``, ``env-speed``, ``speed`` (report), ``sweep``,
               ``profile-cell``, ``claims`` (the scorecard of the committed tables), ``generators`` and
               ``rewards`` (the generators table and the leaderboard by env reward, from results CSVs),
               ``merge`` (a rerun's rows into a committed results CSV) and ``report`` (rebuild its summary)
"""

from __future__ import annotations

import argparse
import importlib
import sys
from importlib.metadata import PackageNotFoundError, version

# subcommand -> module exposing main(argv) -> int (each module owns its parser)
_COMMANDS = {
    "train": "agents.train",
    "datasets": "hydra_env.datasets_cli",
}
_BENCHMARKS = {
    "adbench": "benchmarks.adbench",
    "unseen": "benchmarks.unseen",
    "policies": "benchmarks.policies",
    "detector-speed": "benchmarks.detector_speed",
    "env-speed": "benchmarks.env_speed",
    "sweep": "benchmarks.sweep",
    "speed": "benchmarks.speed",
    "profile-cell": "benchmarks.profile_cell",
    "claims": "benchmarks.claims",
    "generators": "benchmarks.generators_report",
    "rewards": "benchmarks.rewards_report",
    "merge": "benchmarks.merge",
    "report": "benchmarks.report",
}


def _delegate(module_name: str, argv: list[str], prog: str) -> int:
    """Runs ``module_name``'s own parser on ``argv`` so each command has one definition of its flags."""
    module = importlib.import_module(module_name)
    program = sys.argv[0]
    sys.argv[0] = prog  # argparse's default prog comes from here: help then reads "swift-hydra train"
    try:
        return int(module.main(argv) or 0)
    finally:  # called from Python (tests, notebooks), the caller's argv must come back unchanged
        sys.argv[0] = program


def package_version() -> str:
    """The installed distribution's version (``unknown`` when the package runs from an uninstalled tree)."""
    try:
        return version("swift-hydra")
    except PackageNotFoundError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``swift-hydra`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="swift-hydra",
        description="Swift Hydra: RL-synthesised anomalies and a Mixture-of-Mamba-Experts detector.",
        epilog="Run 'swift-hydra COMMAND --help' for a command's options.",
    )
    parser.add_argument(
        "command",
        nargs="?",
        default="train",
        choices=[*_COMMANDS, "bench"],
        help="what to run (default: train on the embedded dataset)",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
        # `swift-hydra` alone or `swift-hydra --dataset x` means `swift-hydra train ...`.
        argv = ["train", *argv]
    args, rest = parser.parse_known_args(argv[:1])
    rest = argv[1:]
    if args.command == "bench":
        bench = argparse.ArgumentParser(prog="swift-hydra bench")
        bench.add_argument("benchmark", choices=list(_BENCHMARKS))
        if not rest or rest[0] in ("-h", "--help"):
            bench.print_help()
            return 0 if rest else 2
        name = bench.parse_args(rest[:1]).benchmark
        return _delegate(_BENCHMARKS[name], rest[1:], prog=f"swift-hydra bench {name}")
    return _delegate(_COMMANDS[args.command], rest, prog=f"swift-hydra {args.command}")


if __name__ == "__main__":
    raise SystemExit(main())
