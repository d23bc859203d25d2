"""``swift-hydra datasets``: list, inspect and download ADBench datasets.

Usage::

    swift-hydra datasets list [--dir DIR]
    swift-hydra datasets info NAME [--dir DIR]
    swift-hydra datasets download NAME [NAME ...] [--dir DIR] [--url URL] [--force]

``--dir`` defaults to ``$SWIFT_HYDRA_DATA``, else ``~/.cache/swift-hydra/adbench``. The module runs
alone (``python -m hydra_env.datasets_cli list``) or through ``swift-hydra datasets``, which calls
:func:`main`.
"""

from __future__ import annotations

import argparse
import sys

from hydra_env import datasets

__all__ = ["build_parser", "main", "run"]


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="{list,info,download}")
    actions.required = True
    dir_help = "data directory (default: $SWIFT_HYDRA_DATA, else ~/.cache/swift-hydra/adbench)"

    listing = actions.add_parser("list", help="datasets known and available locally")
    listing.add_argument("--dir", default=None, help=dir_help)

    info = actions.add_parser("info", help="rows, features and anomaly ratio of one dataset")
    info.add_argument("name", help="dataset name (cardio, 6_cardio, wdbc, ...) or path to an .npz")
    info.add_argument("--dir", default=None, help=dir_help)

    fetch = actions.add_parser("download", help="download ADBench Classical files and verify them")
    fetch.add_argument("names", nargs="+", metavar="NAME", help="dataset names, e.g. cardio 6_cardio")
    fetch.add_argument("--dir", default=None, help=dir_help)
    fetch.add_argument("--url", default=None, help="base URL (default: $SWIFT_HYDRA_DATA_URL or ADBench's)")
    fetch.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for each read of a file")
    fetch.add_argument(
        "--connect-timeout",
        type=float,
        default=10.0,
        help="seconds to wait for the server to connect and answer",
    )
    fetch.add_argument("--force", action="store_true", help="download even if a verified copy exists")


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The standalone parser (``prog`` defaults to argparse's, i.e. ``sys.argv[0]``)."""
    parser = argparse.ArgumentParser(prog=prog, description="List, inspect and download ADBench datasets.")
    _add_arguments(parser)
    return parser


def _list(args: argparse.Namespace) -> int:
    data_dir = datasets.resolve_data_dir(args.dir)
    entries = datasets.list_datasets(data_dir)
    print(f"data directory: {data_dir}")
    width = max(len(entry.name) for entry in entries)
    for entry in entries:
        where = "embedded" if entry.kind == "embedded" else str(entry.path) if entry.path else "-"
        status = "available" if entry.available else "not downloaded"
        print(f"  {entry.name:<{width}}  {entry.kind:<9}  {status:<14}  {where}")
    n_local = sum(entry.path is not None for entry in entries)
    print(
        f"{len(datasets.EMBEDDED)} embedded, {n_local} local files, {len(datasets.ADBENCH_CLASSICAL)} ADBench names"
    )
    return 0


def _info(args: argparse.Namespace) -> int:
    info = datasets.dataset_info(args.name, args.dir)
    print(f"name:          {info['name']}")
    print(f"source:        {info['source']}")
    print(f"rows:          {info['rows']}")
    print(f"features:      {info['features']}")
    print(f"anomalies:     {info['anomalies']}")
    print(f"anomaly ratio: {info['anomaly_ratio']:.4f} ({100 * info['anomaly_ratio']:.2f}%)")
    return 0


def _download(args: argparse.Namespace) -> int:
    from hydra_env.download import download

    for path in download(
        args.names,
        args.dir,
        base_url=args.url,
        timeout=args.timeout,
        force=args.force,
        connect_timeout=args.connect_timeout,
    ):
        print(f"ok  {path}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Runs a parsed ``datasets`` command; prints the error and returns 1 on bad input or failure."""
    handler = {"list": _list, "info": _info, "download": _download}[args.action]
    try:
        return handler(args)
    except (ValueError, TypeError, OSError) as exc:  # FileNotFoundError and DownloadError are OSErrors
        print(f"error: {exc}", file=sys.stderr)
        return 1


def main(argv: list[str] | None = None) -> int:
    """Parses ``argv`` (default ``sys.argv[1:]``) and runs the command; returns the exit status."""
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
