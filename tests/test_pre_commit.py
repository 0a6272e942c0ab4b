"""The pre-commit hook in .pre-commit-hooks.yaml, run for real with `pre-commit try-repo`
against a temporary git repository holding a good spec, a bad spec and a YAML file that is
not a spec."""
from __future__ import annotations

import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
GOOD = ROOT / "specs" / "lenet5.yaml"
BAD = ROOT / "tests" / "fixtures" / "rules" / "S001.yaml"
NOT_A_SPEC = "name: ci\non: [push]\njobs: {}\n"


def hook() -> dict:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    return next(h for h in hooks if h["id"] == "convlint")


def test_hook_definition():
    definition = hook()
    assert (definition["entry"], definition["language"], definition["types"]) == ("convlint lint --skip-non-specs", "python",
                                                                                      ["yaml"])
    assert definition.get("pass_filenames", True) is True


@pytest.fixture(scope="module")
def repository(tmp_path_factory) -> Path:
    repo = tmp_path_factory.mktemp("specs-repo")
    shutil.copy(GOOD, repo / "good.yaml")
    shutil.copy(BAD, repo / "bad.yaml")
    (repo / "workflow.yaml").write_text(NOT_A_SPEC, encoding="utf-8")
    (repo / "notes.txt").write_text("not yaml\n", encoding="utf-8")
    if shutil.which("git"):
        subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
        subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    return repo


def test_entry_command_on_the_files_pre_commit_passes(repository):
    entry = [sys.executable, "-m", "convlint", *shlex.split(hook()["entry"])[1:]]
    clean = subprocess.run([*entry, "good.yaml", "workflow.yaml"], cwd=repository, capture_output=True, text=True)
    dirty = subprocess.run([*entry, "bad.yaml", "good.yaml", "workflow.yaml"], cwd=repository,
                           capture_output=True, text=True)
    assert (clean.returncode, clean.stdout) == (0, "All checks passed (1 spec checked).\n"
                                                   "Skipped 1 YAML file that is not a spec (no top-level `layers`).\n")
    assert dirty.returncode == 1
    assert dirty.stdout.startswith("bad.yaml:6:") and "in 1 of 2 specs" in dirty.stdout


def _is_git_checkout() -> bool:
    return shutil.which("git") is not None and subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--git-dir"], capture_output=True).returncode == 0


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("pre_commit") is None,
                    reason="pre-commit is not installed (pip install pre-commit, or the test extra)")
@pytest.mark.skipif(not _is_git_checkout(), reason="pre-commit try-repo needs this project as a git checkout")
def test_pre_commit_try_repo(repository, tmp_path_factory):
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path_factory.mktemp("pre-commit-home")),
               GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com")

    def try_repo(*args):
        return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "convlint", *args],
                              cwd=repository, env=env, capture_output=True, text=True, timeout=300)

    # one run over every file: the spec with a finding fails the hook, the good spec and the YAML file that
    # is no spec pass through it (2 specs checked), the text file is not handed to it
    everything = try_repo("--all-files")
    assert everything.returncode == 1, everything.stdout + everything.stderr
    assert "bad.yaml:6:" in everything.stdout and " S001 " in everything.stdout
    assert "Found 1 problem (1 warning) in 1 of 2 specs." in everything.stdout
    assert "workflow.yaml" not in everything.stdout.split("hook id: convlint", 1)[1]
