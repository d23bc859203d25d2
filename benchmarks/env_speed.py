"""Throughput of ``SwiftHydra-v0``: single env, batched vector env, and the bare decode+score limit.

For each batch size N the "bare" rate times exactly the work a step cannot avoid: decode N latents
with the VAE, score them with the detector and compute the k-NN entropy gain, under
``torch.inference_mode()``, with no env around it. The vector env's rate divided by the bare rate
says how much the env itself costs (1.0 = free). Target: >= 0.8 at N = 64.

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

BATCH_SIZES = (1, 16, 64, 256)
TARGET_RATIO_AT_64 = 0.8


def _timed(fn, seconds: float, samples_per_call: int) -> float:
    """Samples per second of ``fn`` over about ``seconds`` (after a short warm-up)."""
    for _ in range(3):
        fn()
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return calls * samples_per_call / elapsed


def measure(seconds: float, batch_sizes: tuple[int, ...], seed: int = 0) -> dict[str, Any]:
    """Runs every measurement and returns the results as a dict."""
    import gymnasium as gym

    import hydra_env  # noqa: F401  (registers SwiftHydra-v0)

    t0 = time.perf_counter()
    single = gym.make("SwiftHydra-v0").unwrapped
    build_s = time.perf_counter() - t0
    core, dim = single.core, single.config.latent_dim
    rng = np.random.default_rng(seed)

    single.reset(seed=seed)
    actions = rng.uniform(-1, 1, size=(1024, dim)).astype(np.float32)
    counter = {"i": 0}

    def single_step() -> None:
        i = counter["i"] = (counter["i"] + 1) % len(actions)
        if single.step(actions[i])[3]:
            single.reset()

    rows = [{"mode": "single env", "n": 1, "samples_per_s": _timed(single_step, seconds, 1)}]
    for n in batch_sizes:
        venv = gym.make_vec("SwiftHydra-v0", num_envs=n, vectorization_mode="vector_entry_point")
        venv.reset(seed=seed)
        batch_actions = rng.uniform(-1, 1, size=(64, n, dim)).astype(np.float32)
        state = {"i": 0}

        def vector_step(venv=venv, batch_actions=batch_actions, state=state) -> None:
            state["i"] = (state["i"] + 1) % len(batch_actions)
            venv.step(batch_actions[state["i"]])

        z = torch.as_tensor(rng.uniform(-2, 2, size=(n, dim)).astype(np.float32), device=core.device)

        def bare(z=z) -> None:
            with torch.inference_mode():
                x = core.vae.decode_torch(z, 1)
                hydra_env.anomaly_probability(core.detector, x)
                core.entropy(x)

        vector_rate = _timed(vector_step, seconds, n)
        bare_rate = _timed(bare, seconds, n)
        rows.append({"mode": "vector env", "n": n, "samples_per_s": vector_rate})
        rows.append({"mode": "bare decode+score", "n": n, "samples_per_s": bare_rate})
        venv.close()
    ratios = {}
    for n in batch_sizes:
        rate = {r["mode"]: r["samples_per_s"] for r in rows if r["n"] == n and r["mode"] != "single env"}
        ratios[n] = rate["vector env"] / rate["bare decode+score"]
    return {
        "rows": rows,
        "ratio_vector_over_bare": {str(n): r for n, r in ratios.items()},
        "single_over_bare_n1": rows[0]["samples_per_s"]
        / next(r["samples_per_s"] for r in rows if r["mode"] == "bare decode+score" and r["n"] == 1),
        "target_ratio_at_64": TARGET_RATIO_AT_64,
        "build_seconds": build_s,
        "detector": type(core.detector).__name__,
        "config": single.config.to_dict(),
    }


def write_reports(results: dict[str, Any], out: Path, command: str) -> list[Path]:
    """Writes ``env_speed.json``, ``env_speed.md`` and ``env_speed.png`` under ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path, png_path = out / "env_speed.json", out / "env_speed.md", out / "env_speed.png"
    atomic_write(json_path, lambda p: p.write_text(json.dumps(results, indent=2, default=str)))

    ratios = results["ratio_vector_over_bare"]
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
        "",
        "| mode | N | samples/s | vector / bare |",
        "| --- | ---: | ---: | ---: |",
    ]
    for row in results["rows"]:
        ratio = ratios[str(row["n"])] if row["mode"] == "vector env" else None
        lines.append(
            f"| {row['mode']} | {row['n']} | {row['samples_per_s']:,.0f} | {'' if ratio is None else f'{ratio:.2f}x'} |"
        )
    at_64 = ratios.get("64")
    lines += [
        "",
        f"Single env / bare at N=1: {results['single_over_bare_n1']:.2f}x.",
    ]
    if at_64 is not None:
        verdict = "met" if at_64 >= TARGET_RATIO_AT_64 else "NOT met"
        lines.append(f"Target vector/bare >= {TARGET_RATIO_AT_64} at N=64: {verdict} ({at_64:.2f}x).")
    atomic_write(md_path, lambda p: p.write_text("\n".join(lines) + "\n"))

    fig, ax = plt.subplots(figsize=(6, 4))
    for mode, marker in (("vector env", "o"), ("bare decode+score", "s")):
        pts = [(r["n"], r["samples_per_s"]) for r in results["rows"] if r["mode"] == mode]
        ax.plot(*zip(*pts, strict=True), marker=marker, label=mode)
    ax.axhline(results["rows"][0]["samples_per_s"], color="grey", ls="--", label="single env")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="batch size N",
        ylabel="samples / s",
        title="SwiftHydra-v0 throughput",
    )
    ax.legend()
    fig.tight_layout()
    atomic_write(png_path, lambda p: fig.savefig(p, format="png", dpi=120))
    plt.close(fig)
    return [json_path, md_path, png_path]


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"), help="output folder")
    parser.add_argument("--seconds", type=float, default=2.0, help="timing window per measurement")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=list(BATCH_SIZES))
    args = parser.parse_args(argv)
    if not args.seconds > 0 or args.threads < 1 or min(args.batch_sizes) < 1:
        common.fail(parser, ValueError("--seconds must be > 0, --threads and --batch-sizes >= 1"))
    torch.set_num_threads(args.threads)
    command = "python -m benchmarks.env_speed " + " ".join(sys.argv[1:] if argv is None else argv)
    results = measure(args.seconds, tuple(args.batch_sizes))
    results.update(
        commit=git_commit(),
        machine=f"{platform.machine()} {platform.processor() or platform.system()}, {os.cpu_count()} CPUs",
        torch_threads=torch.get_num_threads(),
        command=command.strip(),
    )
    for path in write_reports(results, args.out, command.strip()):
        print(path)
    print(json.dumps(results["ratio_vector_over_bare"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
