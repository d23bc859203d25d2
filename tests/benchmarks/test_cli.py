"""The ``swift-hydra`` console script: its own flags and how it hands the rest to each command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from benchmarks import cli


def test_version_prints_the_installed_version(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["--version"])
    assert stop.value.code == 0
    pyproject = Path(__file__).parents[2].joinpath("pyproject.toml").read_text()  # no tomllib on Python 3.10
    expected = re.search(r'^version = "([^"]+)"$', pyproject, re.MULTILINE).group(1)
    assert capsys.readouterr().out.strip() == f"swift-hydra {expected}"


def test_bench_without_a_benchmark_lists_them_and_exits_2(capsys):
    assert cli.main(["bench"]) == 2
    out = capsys.readouterr().out
    assert "usage: swift-hydra bench" in out and "merge" in out and "policies" in out


def test_an_unknown_benchmark_is_named(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["bench", "nope"])
    assert stop.value.code == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err
