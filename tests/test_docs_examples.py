"""Every console example in README.md and docs/*.md is run, and its output must be what the page shows.

A ```console block holds `$ command` lines, each followed by its expected output.  A YAML block
headed by `<!-- file: NAME -->` is written to NAME first, so examples can use the specs a page shows.
Examples run in a temporary directory that holds `specs/` and `tests/` of this project; `…` at the
end of an expected line stands for the rest of that line.
"""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"(?:<!-- file: (?P<file>\S+) -->\n)?```(?P<lang>\w*)\n(?P<body>.*?)```", re.DOTALL)


def examples(page: Path) -> list[tuple[str, list[tuple[str, str]], dict[str, str]]]:
    """(console block text, [(command, expected output)], files written before it) of a page."""
    files: dict[str, str] = {}
    found = []
    for match in BLOCK.finditer(page.read_text(encoding="utf-8")):
        if match["file"]:
            files[match["file"]] = match["body"]
        if match["lang"] != "console":
            continue
        runs: list[tuple[str, str]] = []
        for line in match["body"].splitlines(keepends=True):
            if line.startswith("$ "):
                runs.append((line[2:].split("  #")[0].strip(), ""))
            elif runs:
                runs[-1] = (runs[-1][0], runs[-1][1] + line)
        found.append((match["body"], runs, dict(files)))
    return found


HEAVY_COMMANDS = ("convlint import", "convlint export")
"""Examples of these, or of an ``.onnx`` file, load PyTorch or ONNX and take seconds each: they run with
the slow tests."""


def example_marks(runs: list[tuple[str, str]]) -> list:
    heavy = any(command.startswith(HEAVY_COMMANDS) or ".onnx" in command for command, _ in runs)
    return [pytest.mark.slow] if heavy else []


CASES = [pytest.param(page, index, id=f"{page.name}-{index}", marks=example_marks(runs))
         for page in PAGES for index, (_, runs, _) in enumerate(examples(page))]


def matches(expected: str, actual: str) -> bool:
    want, got = expected.splitlines(), actual.splitlines()
    if len(want) != len(got):
        return False
    return all(w == g or (w.endswith("…") and g.startswith(w[:-1])) for w, g in zip(want, got))


def test_pages_have_examples():
    assert len(CASES) >= 8


@pytest.mark.parametrize("page, index", CASES)
def test_console_example(page, index, tmp_path):
    _, runs, files = examples(page)[index]
    (tmp_path / "specs").symlink_to(ROOT / "specs")
    (tmp_path / "tests").symlink_to(ROOT / "tests")
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100"}
    bin_dir = Path(sys.executable).parent
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    for command, expected in runs:
        argv = shlex.split(command)
        assert argv[0] == "convlint", command
        done = subprocess.run([sys.executable, "-m", "convlint", *argv[1:]], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300)
        shown = done.stdout + done.stderr if not done.stdout else done.stderr + done.stdout
        assert matches(expected, shown), f"$ {command}\n--- page ---\n{expected}--- actual ---\n{shown}"


def test_readme_is_a_front_door():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) < 130
    assert "python3 -m pip install -e . && convlint lint specs/" in readme
    assert "python3 -m pip install -e '.[test]' && python3 -m pytest -q" in readme
    assert "--index-url https://download.pytorch.org/whl/cpu" in readme
    for target in re.findall(r"\]\((docs/[\w./-]+)\)", readme):
        assert (ROOT / target).is_file(), target


def test_pre_commit_snippet_says_what_to_put_there():
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    snippet = page.split("# .pre-commit-config.yaml\n", 1)[1].split("```", 1)[0]
    assert "your-org" not in snippet
    assert "repo: URL_OF_THE_CONVLINT_REPOSITORY" in snippet and "rev: COMMIT_OR_TAG" in snippet
    assert "git rev-parse HEAD" in page
