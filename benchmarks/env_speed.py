"""Throughput of ``SwiftHydra-v0``: single env, batched vector env, and the bare decode+score limit.

For each batch size N the "bare" rate times exactly the work a step cannot avoid: decode N latents
with the VAE, score them with the detector and compute the k-NN entropy gain, under
``torch.inference_mode()``, with no env around it. The vector env's rate divided by the bare rate
says how much the env itself costs (1.0 = free). Target: >= 0.8 at N = 64. The env, the bare work
(and at N = 1 the single env) are timed side by side in interleaved rounds (`benchmarks.timing`), so
load from other processes hits both sides of a ratio alike.

It also records ``loaded_default_threads_over_one_thread`` (`benchmarks.loaded_threads`): the single
env's steps/s under torch's *default* thread count while another process keeps a core busy, over its
one-thread rate on the same loaded machine. Target: >= 0.5.

Run::

    python -m benchmarks.env_speed --out benchmarks/results
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks import common
from benchmarks.common import atomic_write, git_commit
from benchmarks.loaded_threads import TARGET_LOADED_RATIO, measure_loaded_threads
from benchmarks.timing import interleaved_seconds_per_call, paired_ratio, single_env_stepper, spread

BATCH_SIZES = (1, 16, 64, 256)
TARGET_RATIO_AT_64 = 0.8
ROUNDS = 20


def _contenders(single, venv, n: int, rng: np.random.Generator) -> dict[str, Any]:
    """The functions timed side by side at batch size ``n``: vector env step, bare work (and single env)."""
    import hydra_env

    core, dim = single.core, single.config.latent_dim
    batch_actions = rng.uniform(-1, 1, size=(64, n, dim)).astype(np.float32)
    state = {"i": 0}

    def vector_step() -> None:
        state["i"] = (state["i"] + 1) % len(batch_actions)
        venv.step(batch_actions[state["i"]])

    z = torch.as_tensor(rng.uniform(-2, 2, size=(n, dim)).astype(np.float32), device=core.device)

    def bare() -> None:
        with torch.inference_mode():
            x = core.vae.decode_torch(z, 1)
            core.reward(x, hydra_env.anomaly_probability(core.detector, x))

    fns = {"vector env": vector_step, "bare decode+score": bare}
    if n == 1:
        actions = rng.uniform(-1, 1, size=(1024, dim)).astype(np.float32)
        fns["single env"] = single_env_stepper(single, actions)
    return fns


def measure(
    seconds: float, batch_sizes: tuple[int, ...], seed: int = 0, rounds: int = ROUNDS
) -> dict[str, Any]:
    """Runs every measurement side by side (interleaved rounds) and returns the results as a dict.

    Args:
        seconds: Timing budget of each contender at each batch size (split into ``rounds`` blocks).
        batch_sizes: Vector-env sizes N.
        seed: Seed of the envs and the random actions.
        rounds: Interleaved rounds per batch size.
    """
    import gymnasium as gym

    import hydra_env  # noqa: F401  (registers SwiftHydra-v0)

    t0 = time.perf_counter()
    single = gym.make("SwiftHydra-v0").unwrapped
    build_s = time.perf_counter() - t0
    single.reset(seed=seed)
    rng = np.random.default_rng(seed)
    rows, ratios, single_over_bare = [], {}, None
    for n in batch_sizes:
        venv = gym.make_vec("SwiftHydra-v0", num_envs=n, vectorization_mode="vector_entry_point")
        venv.reset(seed=seed)
        seconds_per_call = interleaved_seconds_per_call(
            _contenders(single, venv, n, rng), rounds, seconds / rounds
        )
        venv.close()
        rates = {mode: n / secs for mode, secs in seconds_per_call.items()}
        for mode in ("single env", "vector env", "bare decode+score"):
            if mode in rates:
                rate = spread(rates[mode])
                rows.append(
                    {"mode": mode, "n": n, "samples_per_s": rate["median"], "samples_per_s_spread": rate}
                )
        ratios[str(n)] = paired_ratio(rates["vector env"], rates["bare decode+score"])
        if "single env" in rates:
            single_over_bare = paired_ratio(rates["single env"], rates["bare decode+score"])
    return {
        "rows": rows,
        "ratio_vector_over_bare": {n: r["median"] for n, r in ratios.items()},
        "ratio_vector_over_bare_spread": ratios,
        "single_over_bare_n1": None if single_over_bare is None else single_over_bare["median"],
        "single_over_bare_n1_spread": single_over_bare,
        "target_ratio_at_64": TARGET_RATIO_AT_64,
        "timing": {
            "method": "interleaved rounds (benchmarks.timing): vector env, bare (and single env) timed in "
            "turn per round; a ratio is the median of per-round ratios",
            "rounds": rounds,
            "seconds_per_contender": seconds,
        },
        "build_seconds": build_s,
        "detector": type(single.core.detector).__name__,
        "config": single.config.to_dict(),
    }


def _fmt_spread(value: dict[str, float] | None, fmt: str = ".2f") -> str:
    return "" if value is None else f"{value['median']:{fmt}}x ({value['q25']:{fmt}}-{value['q75']:{fmt}})"


def _markdown(results: dict[str, Any], command: str) -> list[str]:
    spreads = results["ratio_vector_over_bare_spread"]
    timing = results["timing"]
    lines = [
        "# SwiftHydra-v0 throughput",
        "",
        f"Command: `{command}`  ",
        f"Commit: `{results['commit']}`  ",
        f"Machine: {results['machine']}; torch threads: {results['torch_threads']}; "
        f"detector: {results['detector']}; env build (VAE + detector training): {results['build_seconds']:.1f} s",
        "",
        "Samples per second (one sample = one env step of one sub-env). *bare* = VAE decode + detector "
        "score + k-NN entropy gain of the same batch under `torch.inference_mode()`, no env: the limit.",
        f"Timed side by side: {timing['rounds']} interleaved rounds per N; rates are medians over rounds "
        "(quartiles in brackets), ratios are medians of per-round ratios.",
        "",
        "| mode | N | samples/s (IQR) | vector / bare (IQR) |",
        "| --- | ---: | ---: | ---: |",
    ]
    for row in results["rows"]:
        rate = row["samples_per_s_spread"]
        ratio = _fmt_spread(spreads[str(row["n"])]) if row["mode"] == "vector env" else ""
        lines.append(
            f"| {row['mode']} | {row['n']} | {rate['median']:,.0f} ({rate['q25']:,.0f}-{rate['q75']:,.0f}) | {ratio} |"
        )
    lines += [
        "",
        f"Single env / bare at N=1: {_fmt_spread(results['single_over_bare_n1_spread']) or 'not run'}.",
    ]
    at_64 = spreads.get("64")
    if at_64 is not None:
        verdict = "met" if at_64["median"] >= TARGET_RATIO_AT_64 else "NOT met"
        lines.append(f"Target vector/bare >= {TARGET_RATIO_AT_64} at N=64: {verdict} ({_fmt_spread(at_64)}).")
    loaded = results.get("loaded_threads")
    if loaded is not None:
        ratio = loaded["loaded_default_threads_over_one_thread_spread"]
        verdict = "met" if ratio["median"] >= TARGET_LOADED_RATIO else "NOT met"
        steps = loaded["steps_per_s"]
        lines += [
            "",
            "## From a caller's loop under load",
            "",
            f'`gym.make("SwiftHydra-v0")` in a fresh process with torch\'s default threads '
            f"({loaded['default_torch_threads']}) while a second process keeps one core busy "
            "(`benchmarks.loaded_threads`), against one thread on the same loaded machine:",
            "",
            "| torch threads | steps/s (IQR) |",
            "| --- | ---: |",
            *(
                f"| {name} | {v['median']:,.0f} ({v['q25']:,.0f}-{v['q75']:,.0f}) |"
                for name, v in steps.items()
            ),
            "",
            f"`loaded_default_threads_over_one_thread` = {_fmt_spread(ratio)}; target >= {TARGET_LOADED_RATIO}: "
            f"{verdict}. Without the env's one-thread guard: "
            f"{_fmt_spread(loaded['loaded_unguarded_default_threads_over_one_thread_spread'], '.3f')}.",
        ]
    return lines


def _plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for mode, marker in (("vector env", "o"), ("bare decode+score", "s")):
        pts = [(r["n"], r["samples_per_s"]) for r in results["rows"] if r["mode"] == mode]
        ax.plot(*zip(*pts, strict=True), marker=marker, label=mode)
    single = [r["samples_per_s"] for r in results["rows"] if r["mode"] == "single env"]
    if single:
        ax.axhline(single[0], color="grey", ls="--", label="single env")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="batch size N",
        ylabel="samples / s",
        title="SwiftHydra-v0 throughput",
    )
    ax.legend()
    fig.tight_layout()
    atomic_write(path, lambda p: fig.savefig(p, format="png", dpi=120))
    plt.close(fig)


def write_reports(results: dict[str, Any], out: Path, command: str) -> list[Path]:
    """Writes ``env_speed.json``, ``env_speed.md`` and ``env_speed.png`` under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path, png_path = out / "env_speed.json", out / "env_speed.md", out / "env_speed.png"
    atomic_write(json_path, lambda p: p.write_text(json.dumps(results, indent=2, default=str)))
    atomic_write(md_path, lambda p: p.write_text("\n".join(_markdown(results, command)) + "\n"))
    _plot(results, png_path)
    return [json_path, md_path, png_path]


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"), help="output folder")
    parser.add_argument("--seconds", type=float, default=2.0, help="timing budget per contender and N")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="interleaved rounds per N")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=list(BATCH_SIZES))
    parser.add_argument(
        "--skip-loaded", action="store_true", help="skip the loaded default-threads measurement"
    )
    args = parser.parse_args(argv)
    if not args.seconds > 0 or args.threads < 1 or min(args.batch_sizes) < 1:
        common.fail(parser, ValueError("--seconds must be > 0, --threads and --batch-sizes >= 1"))
    torch.set_num_threads(args.threads)
    command = "python -m benchmarks.env_speed " + " ".join(sys.argv[1:] if argv is None else argv)
    results = measure(args.seconds, tuple(args.batch_sizes), rounds=args.rounds)
    if not args.skip_loaded:
        loaded = measure_loaded_threads(args.seconds, args.rounds)
        results["loaded_default_threads_over_one_thread"] = loaded["loaded_default_threads_over_one_thread"]
        results["loaded_threads"] = loaded
    results.update(
        commit=git_commit(),
        machine=f"{platform.machine()} {platform.processor() or platform.system()}, {os.cpu_count()} CPUs",
        torch_threads=torch.get_num_threads(),
        command=command.strip(),
    )
    for path in write_reports(results, args.out, command.strip()):
        print(path)
    print(json.dumps(results["ratio_vector_over_bare"], indent=1))
    if "loaded_threads" in results:
        print("loaded_default_threads_over_one_thread:", results["loaded_default_threads_over_one_thread"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
