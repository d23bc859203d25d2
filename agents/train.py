"""``swift-hydra train``: one Swift Hydra run from the command line (also ``python -m agents.train``).

Examples::

    swift-hydra train                                   # wdbc, PPO, la=0.1, seed 1, small budget
    swift-hydra train --dataset cardio --algo sac --la 0.1 --seed 2 --rounds 5
    swift-hydra train --algo ppo --algo-kwargs learning_rate=1e-3 "policy_kwargs=dict(net_arch=[32, 32])"
    swift-hydra train --hyperparams my_ppo.yml          # rl-zoo3 format, key SwiftHydra-v0
    swift-hydra train --rounds 0                        # the no-augmentation control only
    swift-hydra train --resume runs/wdbc-ppo-la0.1-s1-20250101-120000

The ``swift-hydra`` console script (:mod:`benchmarks.cli`) hands its arguments to :func:`main`, also
the stand-alone entry point. Bad input (unknown algorithm or dataset,
malformed ``--algo-kwargs``, ``--la 0``, a resume folder that is not a run) exits with code 2 and a
message, before any training.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import re
import shlex
import sys
import types
import typing
from pathlib import Path
from typing import Any

from agents.config import BUDGETS, RUN_OWNED_ENV_FIELDS, TrainConfig, budget_fields
from agents.deploy import DEPLOY_CHOICES
from agents.typecheck import check_field_types

PROG = "swift-hydra train"


def parse_kwarg(text: str) -> tuple[str, Any]:
    """``key=value`` -> ``(key, value)``; the value goes through ``ast.literal_eval``, else stays a string."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"expected key=value with a Python identifier as key, got {text!r}")
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        value = raw
    return key, value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from err
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {value}")
    return value


# ----------------------------------------------------------------------------- flags from the dataclasses
# Every field of TrainConfig, of its nested LoopOptions and of hydra_env.EnvConfig (less the fields the run
# sets itself, agents.config.RUN_OWNED_ENV_FIELDS) becomes one flag: ``--field-name``, the dataclass's
# default, its type, and its line of the class docstring's ``Attributes:`` section as help. A new field
# is a flag with no edit here; _flag_overrides only adds what a type cannot say (choices, a flag name).
ENV_DEST = "env:"
"""Namespace prefix of the EnvConfig flags (set only when given, so ``--env-kwargs`` keeps the rest)."""
ENV_GROUP = "SwiftHydra-v0 settings (EnvConfig)"


class _MergeKwargs(argparse.Action):
    """``KEY=VALUE ...`` pairs (parsed by :func:`parse_kwarg`) merged into a dict; a repeated flag adds keys."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: Any = None) -> None:
        current = getattr(namespace, self.dest, None)
        setattr(namespace, self.dest, {**(current if isinstance(current, dict) else {}), **dict(values)})


def _literal(text: str) -> Any:
    """A Python literal when ``text`` is one, else the string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _reward_weights(text: str) -> dict[str, float]:
    from hydra_env.config import parse_weights

    try:
        return parse_weights(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from err


def _flag_overrides() -> dict[str, dict[str, Any]]:
    from agents.registry import ALGO_CHOICES

    return {
        "algo": {"choices": ALGO_CHOICES},
        "budget": {"choices": sorted(BUDGETS)},
        "budget_overrides": {"flag": "--budget-set", "metavar": "FIELD=VALUE",
                             "more_help": f" Fields: {', '.join(budget_fields())}."},
        "deploy": {"choices": sorted(DEPLOY_CHOICES)},
        "reward_weights": {"type": _reward_weights, "action": "store", "nargs": None, "metavar": "TERM:W,..."},
    }  # fmt: skip


def attribute_docs(cls: type) -> dict[str, str]:
    """``{field: description}`` from the Google-style ``Attributes:`` section of ``cls``'s docstring."""
    docs: dict[str, str] = {}
    lines = iter((inspect.getdoc(cls) or "").splitlines())
    for line in lines:
        if line.strip() == "Attributes:":
            break
    current = None
    for line in lines:
        if line and not line[0].isspace():
            break  # the next section
        match = re.match(r" {4}(\w+):\s*(.*)", line)
        if match:
            current = match.group(1)
            docs[current] = match.group(2)
        elif current and line.strip():
            docs[current] += " " + line.strip()
    return {name: re.sub(r":\w+:`~?([^`]+)`", r"\1", text).replace("``", "") for name, text in docs.items()}


def _type_kwargs(hint: Any, name: str) -> dict[str, Any]:
    """``add_argument`` keywords for a field of type ``hint``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [arg for arg in args if arg is not type(None)]
        return (
            _type_kwargs(inner[0], name) if len(inner) == 1 else {"type": _literal, "metavar": name.upper()}
        )
    if hint is bool:
        return {"action": argparse.BooleanOptionalAction}
    if hint in (int, float, str):
        return {"type": hint, "metavar": name.upper()}
    if origin is dict:
        return {"nargs": "+", "type": parse_kwarg, "action": _MergeKwargs, "metavar": "KEY=VALUE"}
    if origin in (tuple, list):
        item = args[0] if args and args[0] in (int, float, str) else _literal
        return {"nargs": "+", "type": item, "metavar": name.upper()}
    return {"type": _literal, "metavar": name.upper()}


def _show_default(name: str, default: Any) -> str:
    if isinstance(default, bool):
        return f"--{'' if default else 'no-'}{name.replace('_', '-')}"
    if name == "reward_weights":
        return ",".join(f"{term}:{weight:g}" for term, weight in default.items())
    return str(default)


def _field_default(spec: dataclasses.Field) -> Any:
    return spec.default_factory() if spec.default_factory is not dataclasses.MISSING else spec.default


def add_dataclass_flags(
    parser: argparse.ArgumentParser, cls: type, *, title: str | None = None, env: bool = False
) -> None:
    """One flag per field of ``cls``; a field whose type is a dataclass gets its own group of flags.

    Args:
        parser: Where the flags go.
        cls: The dataclass.
        title: Argument group title (``None``: the parser's own options).
        env: ``EnvConfig`` flags: skip the run-owned fields, and set a value only when the flag is given.
    """
    group = parser.add_argument_group(title, _env_group_description() if env else None) if title else parser
    hints, docs, overrides = typing.get_type_hints(cls), attribute_docs(cls), _flag_overrides()
    for spec in dataclasses.fields(cls):
        hint = hints[spec.name]
        if dataclasses.is_dataclass(hint):
            add_dataclass_flags(
                parser, hint, title=f"loop options: {cls.__name__}.{spec.name} ({hint.__name__})"
            )
            continue
        if env and spec.name in RUN_OWNED_ENV_FIELDS:
            continue
        default, extra = _field_default(spec), dict(overrides.get(spec.name, {}))
        flag = extra.pop("flag", "--" + spec.name.replace("_", "-"))
        kwargs = {**_type_kwargs(hint, spec.name), **extra}
        if "choices" in kwargs:
            kwargs.pop("metavar", None)  # the usage line lists the choices
        text = docs.get(spec.name, "") + kwargs.pop("more_help", "")
        if default not in (None, {}):
            text += f" (default: {_show_default(spec.name, default)})"
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        group.add_argument(
            flag, dest=ENV_DEST + spec.name if env else spec.name, default=argparse.SUPPRESS if env else default,
            help=text.replace("%", "%%"), **kwargs,
        )  # fmt: skip


def _env_group_description() -> str:
    owners: dict[str, list[str]] = {}
    for name, owner in RUN_OWNED_ENV_FIELDS.items():
        owners.setdefault(owner, []).append(name)
    owned = "; ".join(f"{', '.join(names)}: {owner}" for owner, names in owners.items())
    return (
        "Settings of the env the agent learns on, recorded in config.json as options.env_kwargs (only those "
        "given). A flag here wins over --env-kwargs, which wins over a --hyperparams yaml's env_kwargs. "
        f"Set by the run, not here: {owned}."
    )


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Adds the ``train`` options to ``parser``: TrainConfig (with LoopOptions), EnvConfig, this command's."""
    from hydra_env.config import EnvConfig

    add_dataclass_flags(parser, TrainConfig)
    parser.add_argument(
        "--rounds", type=_non_negative_int, default=None,
        help="closed-loop rounds (0 = no loop round); short for --budget-set rounds=N",
    )  # fmt: skip
    parser.add_argument("--run-dir", default=None, help="output folder (default runs/<dataset>-<algo>-...)")
    parser.add_argument(
        "--resume", default=None, metavar="RUN_DIR",
        help="continue an interrupted run with the settings it was started with (only --quiet/--progress and "
        "--torch-threads may be given too). Run folders are trusted input: resuming loads the agent with "
        "pickle, which can run code, so only resume runs you created",
    )  # fmt: skip
    parser.add_argument(
        "--torch-threads",
        type=_non_negative_int,
        default=1,
        help="torch CPU threads for this command (default 1: the env steps one tiny batch at a time, where "
        "extra threads only add synchronisation; 0 = torch's default)",
    )
    parser.add_argument(
        "--quiet", dest="progress", action="store_false", help="no progress bars (--no-progress)"
    )
    add_dataclass_flags(parser, EnvConfig, title=ENV_GROUP, env=True)
    return parser


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line and a hint, not the whole usage."""

    def error(self, message: str) -> typing.NoReturn:
        """Prints ``prog: error: message`` and where the options are listed; exits with code 2."""
        self.exit(2, f"{self.prog}: error: {message}\ntry '{self.prog} --help' for the options\n")


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    """The stand-alone parser."""
    parser = _Parser(
        prog=prog,
        description="Train Swift Hydra on one dataset and compare it with the no-augmentation control.",
    )
    return add_arguments(parser)


def _fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


def _from_values(cls: type, values: dict[str, Any]) -> Any:
    hints = typing.get_type_hints(cls)
    return cls(**{
        spec.name: _from_values(hints[spec.name], values) if dataclasses.is_dataclass(hints[spec.name])
        else values[spec.name]
        for spec in dataclasses.fields(cls)
    })  # fmt: skip


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The :class:`TrainConfig` the options describe (``ValueError``/``TypeError`` on bad values).

    The EnvConfig flags given join ``options.env_kwargs`` (winning over ``--env-kwargs``), in the form
    ``EnvConfig`` stores them (``reward_weights="miss:1"`` is recorded as ``{"miss": 1.0}``).
    """
    from hydra_env.config import EnvConfig

    values = dict(vars(args))
    given = {name[len(ENV_DEST) :]: value for name, value in values.items() if name.startswith(ENV_DEST)}
    env_kwargs = {**values["env_kwargs"], **given}
    check_field_types(EnvConfig, env_kwargs, "env setting")
    env = EnvConfig.from_kwargs(**env_kwargs)
    values["env_kwargs"] = {name: getattr(env, name) for name in env_kwargs}
    if args.rounds is not None:
        values["budget_overrides"] = {**values["budget_overrides"], "rounds": args.rounds}
    return _from_values(TrainConfig, values)


RESUME_DESTS = frozenset({"resume", "progress", "torch_threads"})
"""Options that may accompany ``--resume``: the rest is the run's own, read from its ``config.json``."""


def given_options(parser: argparse.ArgumentParser, argv: list[str] | None) -> list[str]:
    """The options ``argv`` sets explicitly (their first spelling), in the parser's order."""
    unset = object()
    actions = [a for a in parser._actions if a.dest not in (argparse.SUPPRESS, "help")]
    namespace = argparse.Namespace(**{action.dest: unset for action in actions})
    parser.parse_args(argv, namespace)  # argparse keeps what is preset: only given options change
    given, seen = [], set()
    for action in actions:
        if getattr(namespace, action.dest) is not unset and action.dest not in seen:
            seen.add(action.dest)
            given.append((action.dest, action.option_strings[0]))
    return [flag for dest, flag in given if dest not in RESUME_DESTS]


def run(args: argparse.Namespace) -> int:
    """Runs ``swift-hydra train`` with parsed options; returns the exit code."""
    from agents.experiment import default_run_dir, is_run_dir, load_run_config, prepare

    if args.torch_threads > 0:
        # CLI process only (never in library code): many tiny forward passes run fastest on one thread.
        import torch

        torch.set_num_threads(args.torch_threads)
    try:
        if args.resume is not None:
            if not is_run_dir(args.resume):
                return _fail(f"--resume {args.resume}: not a swift-hydra run directory (no config.json)")
            config, hyperparams_raw = load_run_config(args.resume)
            config.progress = args.progress
            run_dir = Path(args.resume)
        else:
            config, hyperparams_raw = config_from_args(args), None
            run_dir = Path(args.run_dir) if args.run_dir else default_run_dir(config)
            if is_run_dir(run_dir):
                return _fail(
                    f"--run-dir {run_dir} already holds a run; use --resume {run_dir} or another folder"
                )
        prepared = prepare(config, hyperparams_raw)
    except (ValueError, TypeError, FileNotFoundError) as err:
        return _fail(str(err))
    for line in prepared.warnings:
        print(f"{PROG}: {line}", file=sys.stderr)
    return _run_and_report(config, run_dir, args.resume is not None, prepared)


def _run_and_report(config: TrainConfig, run_dir: Path, resume: bool, prepared: Any) -> int:
    """The run itself; a refused run folder, Ctrl-C or SIGTERM is one line, not a traceback."""
    from agents.experiment import RunDirError, is_run_dir
    from agents.experiment import run as run_experiment
    from agents.interrupt import STOPS, exit_code, sigterm_raises

    try:
        with sigterm_raises():
            summary = run_experiment(config, run_dir, resume=resume, prepared=prepared)
    except RunDirError as err:
        return _fail(str(err))
    except STOPS as stop:
        if is_run_dir(run_dir):
            where = f"continue it with: swift-hydra train --resume {shlex.quote(str(run_dir))}"
        else:
            where = "it had not started, so there is nothing to resume"
        print(f"{PROG}: interrupted; {where}", file=sys.stderr)
        return exit_code(stop)
    print_summary(summary)
    return 0


def _fmt(value: Any) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def gate_lines(summary: dict[str, Any]) -> tuple[str, list[tuple[str, Any]]]:
    """What the kept synthetic anomalies did: a caption line and the gate's validation AUC-ROC rows.

    Returns:
        ``(caption, rows)``: the caption says how many kept rows joined the deployment fit and at what
        weight; ``rows`` are ``(name, validation AUC-ROC)`` of the gate's proxy without and with them
        (empty when the gate judged nothing).
    """
    gate = summary.get("deploy_gate") or {}
    kept, joined = summary["n_synthetic_kept"], summary.get("n_synthetic_joined", 0)
    weight, margin = gate.get("synthetic_weight_used") or 0, summary.get("synthetic_gate_margin")
    value = "value_auc_without" in gate  # the value gate (agents.value_gate) judged them
    prefixes = ("value", "value_unseen") if value else ("val",)
    caption = f"{kept} synthetic anomalies kept, {joined} joined the deployment (weight {weight:g})"
    if not kept:
        return caption, []
    if margin is None:
        return caption + "; gate off: they join whatever the validation says", []
    if gate.get("few_labels_rule"):
        from agents.deploy import FEW_LABELS_JOIN_BELOW

        below = FEW_LABELS_JOIN_BELOW.get(summary.get("deploy", ""), 4)
        return caption + f"; few-labels rule: below {below} labeled anomalies they join without the gate", []
    if gate.get(f"{prefixes[0]}_auc_without") is None:
        where = "training" if value else "validation"
        return caption + f"; gate: too few labeled {where} anomalies to judge, so none joined", []
    if value:
        from agents.value_gate import VALUE_GATE_Z

        caption += (
            f"; the value gate lets them in at +{margin:g} held-out AUC-ROC and {VALUE_GATE_Z:g} standard "
            "error(s) on a cut, no loss on the other"
        )
    else:
        caption += f"; the gate lets them in at +{margin:g} validation AUC-ROC"
    names = {
        "val": "(validation)",
        "value": "(value gate, random folds)",
        "value_unseen": "(value gate, held-out groups)",
    }
    rows = []
    for prefix in prefixes:
        rows.append(
            (f"Gate proxy without the {kept} kept rows {names[prefix]}", gate[f"{prefix}_auc_without"])
        )
        rows.append((f"Gate proxy with them {names[prefix]}", gate[f"{prefix}_auc_with"]))
    for prefix in prefixes:  # the value gate also judged the outlier-exposure rows
        if gate.get(f"{prefix}_auc_with_exposure") is not None:
            rows.append(
                (f"Gate proxy with the exposure rows {names[prefix]}", gate[f"{prefix}_auc_with_exposure"])
            )
    return caption, rows


def print_summary(summary: dict[str, Any]) -> None:
    """The final table: test AUC-ROC / AUC-PR of Swift Hydra beside the control, and what the gate did.

    The gate's rows give the validation AUC-ROC of its proxy without and with the kept synthetic
    anomalies (see :func:`agents.deploy.choose_synthetic_weight`); the caption how many joined.
    """
    rows = [
        (
            f"Swift Hydra ({summary['algo']}, {summary['rounds']} rounds) (test)",
            summary["test"]["swift_hydra"],
        )
    ]
    if "control" in summary["test"]:
        rows.append(("No-augmentation control (test)", summary["test"]["control"]))
    caption, gate_rows = gate_lines(summary)
    rows += [(name, {"auc_roc": auc, "auc_pr": None}) for name, auc in gate_rows]
    labels = (
        f"la={summary['la']:g}" if summary.get("n_labeled") is None else f"K={summary['n_labeled']} labeled"
    )
    title = f"{summary['dataset']} ({labels}, seed={summary['seed']}, budget={summary['budget']})"
    exposure = summary.get("n_exposure_rows") or 0
    caption += f"; {exposure} outlier-exposure rows" if exposure else ""
    if summary.get("deploy_score_columns") == []:
        from detectors.boosted import MIN_ANOMALIES_FOR_SCORES

        caption += f"; score columns left out (fewer than {MIN_ANOMALIES_FOR_SCORES} labeled anomalies)"
    caption += f"; {summary['wall_seconds']:.0f} s"
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # rich is optional: plain text
        print(f"{title}: {caption}")
        for name, scores in rows:
            print(f"  {name:<45} AUC-ROC {_fmt(scores['auc_roc'])}  AUC-PR {_fmt(scores['auc_pr'])}")
    else:
        table = Table(title=title, caption=caption)
        table.add_column("detector (split)")
        table.add_column("AUC-ROC", justify="right")
        table.add_column("AUC-PR", justify="right")
        for name, scores in rows:
            table.add_row(name, _fmt(scores["auc_roc"]), _fmt(scores["auc_pr"]))
        Console().print(table)
    print(f"run directory: {summary['run_dir']}")


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point (``python -m agents.train``)."""
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.resume is not None:
            fixed = given_options(parser, argv)
            if fixed:
                return _fail(
                    f"--resume {args.resume} continues the run with the settings it was started with; "
                    f"these options cannot be changed on resume: {', '.join(fixed)}"
                )
        return run(args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted before the run started; nothing to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
