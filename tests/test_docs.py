"""The documentation keeps up with the code: the env card, the README's first screen, the layout."""

from __future__ import annotations

import dataclasses
import re

import pytest

from hydra_env import EnvConfig
from tests.conftest import REPO_ROOT

ENV_CARD = REPO_ROOT / "docs" / "ENV.md"
# Gymnasium's environment pages use these sections, in this order.
ENV_CARD_HEADINGS = [
    "Description",
    "Action Space",
    "Observation Space",
    "Rewards",
    "Starting State",
    "Episode End",
    "Arguments",
    "Version History",
]
FIRST_SCREEN_LINES = 40
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _sections(text: str) -> dict[str, str]:
    """``{heading: body}`` of the ``## `` sections of a markdown page."""
    parts = re.split(r"^## +(.+?)\s*$", text, flags=re.MULTILINE)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def test_env_card_has_gymnasiums_sections_in_order():
    headings = list(_sections(ENV_CARD.read_text()))
    assert [h for h in headings if h in ENV_CARD_HEADINGS] == ENV_CARD_HEADINGS, headings


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(EnvConfig)])
def test_env_card_documents_every_envconfig_field(field):
    """A new EnvConfig field needs its row under Arguments (name in backticks, its default beside it)."""
    arguments = _sections(ENV_CARD.read_text())["Arguments"]
    assert re.search(rf"^\| `{field}` \|", arguments, flags=re.MULTILINE), (
        f"docs/ENV.md, Arguments: no row for EnvConfig.{field}"
    )


def test_env_card_documents_every_default_reward_term():
    from hydra_env.rewards import DEFAULT_REWARD_WEIGHTS

    rewards = _sections(ENV_CARD.read_text())["Rewards"]
    for term in DEFAULT_REWARD_WEIGHTS:
        assert f"| `{term}` |" in rewards, term


def test_readme_install_command_is_on_the_first_screen():
    lines = (REPO_ROOT / "README.md").read_text().splitlines()
    first = next(i for i, line in enumerate(lines, start=1) if "pip install" in line)
    assert first <= FIRST_SCREEN_LINES, f"the README's first `pip install` is on line {first}"


def test_readme_links_the_env_card():
    assert "(docs/ENV.md)" in (REPO_ROOT / "README.md").read_text()


def test_no_python_under_benchmark_results():
    """benchmarks/results/ holds runner output; scripts belong in research/ (research/README.md)."""
    scripts = sorted(
        str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / "benchmarks" / "results").rglob("*.py")
    )
    assert scripts == []


def _markdown_pages():
    pages = [
        REPO_ROOT / "README.md",
        REPO_ROOT / "CHANGELOG.md",
        REPO_ROOT / "benchmarks" / "results" / "README.md",
    ]
    pages += sorted((REPO_ROOT / "docs").glob("*.md"))
    pages += sorted((REPO_ROOT / "research").rglob("*.md"))
    return [p for p in pages if p.is_file()]


@pytest.mark.parametrize("page", _markdown_pages(), ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_relative_links_resolve(page):
    broken = []
    for target in LINK.findall(page.read_text()):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # a URL or an anchor on the same page
        path = target.split("#", 1)[0]
        if path and not (page.parent / path).exists():
            broken.append(target)
    assert broken == [], f"{page.relative_to(REPO_ROOT)}: broken links {broken}"
