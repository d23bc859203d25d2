"""One speed report page from the detector-speed and env-throughput results.

    python -m benchmarks.speed --results benchmarks/results

reads ``detector_speed.json`` and ``env_speed.json`` (written by ``benchmarks.detector_speed`` and
``benchmarks.env_speed``) and writes ``speed_report.md``. Every figure comes from those files; each
section names the command and commit that measured it. Ratios are the comparable numbers: each file's
timings were taken side by side in one run, whereas absolute rates depend on the machine's load.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from benchmarks import common
from benchmarks.common import atomic_write

DEFAULT_RESULTS = Path(__file__).resolve().parent / "results"


def _pct(value: Any) -> str:
    return "–" if value is None else f"{100 * float(value):.2f}"


def _iqr(bounds: Any) -> str:
    """`` (q25-q75)`` when the file has the quartiles (files written before they existed do not)."""
    return "" if not bounds else f" ({float(bounds[0]):.2f}-{float(bounds[1]):.2f})"


def detector_section(result: dict[str, Any]) -> list[str]:
    """Latency/throughput ratios to the single MambaDetector, with AUC-ROC, as markdown lines."""
    lines = [
        "## Detectors (batch-1 latency, batch-1024 throughput, CPU, one thread)",
        "",
        f"- Command: `{result.get('command', '?')}`",
        f"- Commit: `{result.get('git_commit', '?')}`; dataset {result.get('dataset')}, "
        f"seeds {result.get('seeds')}",
    ]
    if "timing" in result:
        lines.append(
            "- Timed side by side: ratios are medians of per-round (paired) ratios, quartiles in brackets."
        )
    lines += [
        "",
        "| model | latency vs single | throughput vs single | batch-1 ms | AUC-ROC la=0.1 | AUC-ROC la=1.0 |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in result["summary"]:
        lines.append(
            f"| {row['model']} | {row['latency_ratio_to_single']:.2f}x{_iqr(row.get('latency_ratio_to_single_iqr'))}"
            f" | {row['throughput_ratio_to_single']:.2f}x{_iqr(row.get('throughput_ratio_to_single_iqr'))}"
            f" | {row['latency_batch1_ms']:.3f} | {_pct(row.get('auc_la0.1'))} | {_pct(row.get('auc_la1.0'))} |"
        )
    by_model = {row["model"]: row for row in result["summary"]}
    k1, k8 = by_model.get("MoME K=1"), by_model.get("MoME K=8")
    paired = result.get("mome_k8_over_k1")
    if paired:
        ratio, bounds = paired["median"], [paired["q25"], paired["q75"]]
    elif k1 and k8:
        ratio, bounds = k8["latency_batch1_ms"] / k1["latency_batch1_ms"], None
    else:
        return lines
    lines += ["", f"MoME K=8 batch-1 latency / K=1: {ratio:.2f}x{_iqr(bounds)} (target: at most 1.2x)."]
    return lines


def env_section(result: dict[str, Any]) -> list[str]:
    """Vector-env throughput against the bare decode+score rate, as markdown lines."""
    spreads = result.get("ratio_vector_over_bare_spread", {})
    lines = [
        "## Environment throughput (samples per second; vector env vs the bare decode+score limit)",
        "",
        f"- Command: `{result.get('command', '?')}`",
        f"- Commit: `{result.get('commit', '?')}`; {result.get('machine', '')}; "
        f"torch threads {result.get('torch_threads')}",
        "",
        "| N | vector env / bare |",
        "| ---: | ---: |",
    ]
    for n, ratio in result["ratio_vector_over_bare"].items():
        spread = spreads.get(n)
        lines.append(f"| {n} | {ratio:.2f}x{_iqr(spread and [spread['q25'], spread['q75']])} |")
    lines += [
        "",
        f"Single env / bare at N=1: {result['single_over_bare_n1']:.2f}x; "
        f"target at N=64: {result['target_ratio_at_64']}x.",
    ]
    loaded = result.get("loaded_default_threads_over_one_thread")
    if loaded is not None:
        detail = result.get("loaded_threads", {})
        spread = detail.get("loaded_default_threads_over_one_thread_spread")
        lines += [
            "",
            '`gym.make("SwiftHydra-v0")` with torch\'s default threads while another process keeps a core '
            f"busy, over one thread on the same loaded machine (`loaded_default_threads_over_one_thread`): "
            f"{loaded:.2f}x{_iqr(spread and [spread['q25'], spread['q75']])} (target: at least 0.5x).",
        ]
    return lines


def write_speed_report(results_dir: Path) -> Path:
    """Writes ``speed_report.md`` from whichever of the two JSON files exist; returns its path."""
    sections: list[str] = ["# Speed report", ""]
    found = False
    for name, section in (("detector_speed.json", detector_section), ("env_speed.json", env_section)):
        path = results_dir / name
        if path.is_file():
            sections += [*section(json.loads(path.read_text())), ""]
            found = True
        else:
            sections += [f"_{name} not found: run its benchmark first._", ""]
    if not found:
        raise FileNotFoundError(f"neither detector_speed.json nor env_speed.json in {results_dir}")
    out = results_dir / "speed_report.md"
    atomic_write(out, lambda p: p.write_text("\n".join(sections)))
    return out


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help="folder holding the JSON files")
    args = parser.parse_args(argv)
    try:
        print(write_speed_report(args.results))
    except FileNotFoundError as err:
        common.fail(parser, err)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
