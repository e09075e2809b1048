"""pre-commit against a throw-away repository, with this checkout as the hook source.

pre-commit clones the hook repository at a revision and pip-installs it into an environment of its
own, as it would for a user. The hook source is a snapshot of this checkout's working tree (the
files a `pip install .` and the hooks need, tracked or not) committed into a temporary repository,
so the tests check the code as it is, not the last commit. The clone and its environment live in a
PRE_COMMIT_HOME per test session: installed once, then reused by every run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

# What `pip install .` and the hooks read; everything else in the checkout is irrelevant to them.
HOOK_SOURCE_PATHS = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "obsgen")
GIT_IDENTITY = {"GIT_AUTHOR_NAME": "obsgen tests", "GIT_AUTHOR_EMAIL": "tests@obsgen.invalid",
                "GIT_COMMITTER_NAME": "obsgen tests", "GIT_COMMITTER_EMAIL": "tests@obsgen.invalid"}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env={**os.environ, **GIT_IDENTITY}).stdout


@dataclass(frozen=True)
class HookSource:
    repo: Path
    rev: str


@pytest.fixture(scope="session")
def hook_source(tmp_path_factory: pytest.TempPathFactory) -> HookSource:
    """A git repository holding this checkout's working tree, and the sha of its one commit."""
    if shutil.which("git") is None:
        pytest.skip("git not installed")
    repo = tmp_path_factory.mktemp("hook-source")
    listed = git(ROOT, "ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", *HOOK_SOURCE_PATHS)
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        # a symlink stays one; a tracked file deleted in the working tree is left out
        if source.is_symlink() or source.is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / name, follow_symlinks=False)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "snapshot of the obsgen checkout under test")
    return HookSource(repo, git(repo, "rev-parse", "HEAD").strip())


@pytest.fixture(scope="session")
def precommit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pre-commit's cache (clones, hook environments) for this test session only."""
    try:
        import pre_commit  # noqa: F401  (only that it is installed)
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("pre-commit is required in CI (it is in the test extras)")
        pytest.skip("pre-commit not installed (pip install -e '.[test]')")
    return tmp_path_factory.mktemp("pre-commit-home")


@dataclass(frozen=True)
class Project:
    """A user's repository that uses obsgen's hooks."""

    path: Path
    home: Path

    def write(self, name: str, text: str) -> Path:
        path = self.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def obsgen(self, *args: str) -> subprocess.CompletedProcess[str]:
        """obsgen from this checkout (the hook's environment has the same code)."""
        return subprocess.run([sys.executable, "-m", "obsgen", *args], cwd=self.path, capture_output=True,
                              text=True, check=False)

    def pre_commit(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``pre-commit run ARGS`` after staging everything (pre-commit refuses an unstaged config)."""
        git(self.path, "add", "-A")
        env = {**os.environ, **GIT_IDENTITY, "PRE_COMMIT_HOME": str(self.home), "PRE_COMMIT_COLOR": "never"}
        return subprocess.run([sys.executable, "-m", "pre_commit", "run", *args], cwd=self.path, env=env,
                              capture_output=True, text=True, check=False, timeout=900)


@pytest.fixture
def project(tmp_path: Path, precommit_home: Path) -> Project:
    git(tmp_path, "init", "-q")
    return Project(tmp_path, precommit_home)


def precommit_config(source: HookSource, hook_ids: tuple[str, ...] = ("obsgen-validate", "obsgen-check")) -> str:
    hooks = "".join(f"      - id: {hook}\n" for hook in hook_ids)
    return f"repos:\n  - repo: {source.repo}\n    rev: {source.rev}\n    hooks:\n{hooks}"
