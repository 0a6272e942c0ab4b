"""Hostile and broken files: each gets its finding at its position, within 2 s and 200 MB.

The small files are in tests/hostile/; files too large to commit are generated
into tmp_path.  Every file is linted by a child process running the command
line, so that its peak memory (ru_maxrss) and wall time are its own.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HOSTILE = Path(__file__).resolve().parent / "hostile"
MAX_SECONDS = 2.0
"""CPU seconds a hostile file may take to lint (docs/reliability.md)."""


def cpu_limit() -> float:
    """:data:`MAX_SECONDS`, doubled while the machine runs more work than it has cores: CPU time then
    grows with contention for caches and memory bandwidth, and the bound is there to catch work
    that grows without limit, not a slower machine."""
    return MAX_SECONDS * (2 if os.getloadavg()[0] > (os.cpu_count() or 1) else 1)

MAX_PEAK_MB = 200

PEAK_KB = (
    "def peak_kb():\n"
    "    # VmHWM: this process's own peak; ru_maxrss would include the forking pytest's\n"
    "    try:\n"
    "        with open('/proc/self/status') as status:\n"
    "            return next(int(line.split()[1]) for line in status if line.startswith('VmHWM:'))\n"
    "    except (OSError, StopIteration):\n"
    "        import resource\n"
    "        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
)

CHILD = PEAK_KB + (
    "import resource, sys\n"
    "from convlint.cli.main import main\n"
    "code = main(['lint', '--format', 'json', sys.argv[1]])\n"
    "usage = resource.getrusage(resource.RUSAGE_SELF)\n"
    "sys.stderr.write(f'USAGE {usage.ru_utime + usage.ru_stime} {peak_kb()}\\n')\n"
    "sys.exit(code)\n"
)


def lint_in_child(path: Path) -> tuple[int, list[dict], float, float]:
    """(exit code, findings as JSON objects, CPU seconds, peak MB) of `convlint lint` on ``path``.

    The time is the child's CPU time (start-up included), so a busy machine does not fail the bound;
    a lint over :func:`cpu_limit` runs once more and the lesser time counts, since work that grows
    without limit is over it both times and a moment of contention is not.
    """
    runs = []
    while len(runs) < 2 and (not runs or runs[-1][2] > cpu_limit()):
        done = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True,
                              timeout=120)
        assert "Traceback" not in done.stderr, done.stderr
        cpu_seconds, peak_kb = done.stderr.rsplit("USAGE ", 1)[1].split()[:2]
        runs.append((done.returncode, json.loads(done.stdout), float(cpu_seconds), int(peak_kb) / 1024))
    return min(runs, key=lambda run: run[2])


BATCH_CHILD = PEAK_KB + (
    "import contextlib, io, json, sys, time\n"
    "from convlint.cli.main import main\n"
    "results = {}\n"
    "for path in sys.argv[1:]:\n"
    "    out = io.StringIO()\n"
    "    start = time.process_time()\n"
    "    with contextlib.redirect_stdout(out):\n"
    "        code = main(['lint', '--format', 'json', path])\n"
    "    results[path] = [code, json.loads(out.getvalue()), time.process_time() - start]\n"
    "print(json.dumps({'results': results, 'peak_kb': peak_kb()}))\n"
)


@pytest.fixture(scope="module")
def corpus_results() -> dict:
    """Each corpus file linted by the command line in one child: {name: (code, findings, seconds, peak MB)}.

    The peak is the child's over all files, so it bounds each file's peak.
    """
    paths = sorted(str(path) for path in HOSTILE.glob("*.yaml"))
    done = subprocess.run([sys.executable, "-c", BATCH_CHILD, *paths], capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr, done.stderr
    data = json.loads(done.stdout)
    peak_mb = data["peak_kb"] / 1024
    return {Path(path).name: (code, findings, seconds, peak_mb)
            for path, (code, findings, seconds) in data["results"].items()}


def check(path: Path, code: str, line: int | None, column: int | None, text: str = "",
          result: tuple | None = None) -> dict:
    """Lint ``path`` (or take its ``result``); assert a ``code`` finding at (line, column) and the bounds."""
    rc, findings, seconds, peak_mb = result or lint_in_child(path)
    assert seconds <= cpu_limit(), f"{path.name}: {seconds:.2f} s"
    assert peak_mb <= MAX_PEAK_MB, f"{path.name}: {peak_mb:.0f} MB"
    assert rc == 1
    matching = [f for f in findings if f["code"] == code]
    assert matching, findings
    finding = matching[0]
    if line is not None:
        assert (finding["line"], finding["column"]) == (line, column), finding
    assert text in finding["message"]
    assert len(finding["message"]) < 400
    assert all(f["line"] >= 1 and f["column"] >= 1 for f in findings)
    assert not [f for f in findings if f["code"] == "X002"], findings  # no internal error beside it
    return finding


# file, code, line, column, a phrase of the message.  Positions are 1-based; each was
# read off the file by hand (the column of the key, value, tag or alias named).
CORPUS = [
    ("binary.yaml", "Y001", 1, 1, "binary"),
    ("latin1.yaml", "Y001", 4, 15, "not UTF-8"),
    ("control-char.yaml", "Y001", 4, 13, "characters are not allowed"),
    ("alias-bomb.yaml", "Y001", 6, 20, "refusing to expand"),
    ("recursive-alias.yaml", "Y001", 3, 27, "contains it"),
    ("undefined-alias.yaml", "Y001", 4, 50, "*k"),
    ("python-tag.yaml", "Y001", 4, 27, "python/object/apply"),
    ("unknown-tag.yaml", "Y001", 4, 50, "!kernel"),
    ("set-tag.yaml", "Y001", 4, 50, "set"),
    ("duplicate-keys.yaml", "Y003", 8, 5, "kernel_size"),
    ("huge-int-kernel.yaml", "Y005", 4, 37, "64 bits"),
    ("int-5000-digits.yaml", "Y001", 4, 34, "as int"),
    ("huge-input-shape.yaml", "Y002", 2, 3, "positive integers"),
    ("negative-ints.yaml", "Y005", 4, 53, "≥ 1"),
    ("negative-shape.yaml", "Y002", 2, 3, "positive integers"),
    ("float-kernel.yaml", "Y005", 4, 37, "3.0"),
    ("bool-channels.yaml", "Y005", 4, 20, "True"),
    ("string-stride.yaml", "Y005", 4, 53, "'2'"),
    ("float-shape.yaml", "Y002", 2, 3, "32.5"),
    ("self-reference.yaml", "G002", 4, 27, "a → a"),
    ("cycle.yaml", "G002", 4, 26, "a → b → a"),
    ("cycle-named-sizes.yaml", "G002", 4, 74, "a → b → c → a"),  # the sizes solver meets the cycle too
    ("multi-document.yaml", "Y001", 5, 1, "one YAML document"),
    ("output-overflow.yaml", "S012", 4, 5, "2**63"),
    ("layers-not-a-list.yaml", "Y002", 3, 1, "list"),
    ("bad-merge.yaml", "Y001", 4, 10, "<<"),
    ("hex-int-repeat.yaml", "Y001", 6, 26, "as int"),  # 5,000 hex digits: no int() limit for base 16
    ("when-false-repeats.yaml", "C001", 4, 20, "counting those `when: false` removes"),  # 10¹² visits
    ("expression-magnitude.yaml", "C001", 31, 46, "more than 128 bits"),  # p⁴ thirty levels deep: b27's p is 2**64
    ("noqa-in-quoted-name.yaml", "Y006", 4, 81, "kernl"),  # the comment is inside the quoted name
    ("json-syntax-error.yaml", "Y001", 4, 22, "invalid YAML"),  # the second comma, where a value belongs
    ("control-chars-in-name.yaml", "Y006", 4, 107, "kernl"),
]


def test_corpus_is_covered():
    listed = {name for name, *_ in CORPUS} | {"empty.yaml", "syntax-error.yaml", "dot-injection.yaml"}
    assert listed == {path.name for path in HOSTILE.glob("*.yaml")}


@pytest.mark.parametrize("name, code, line, column, text", CORPUS, ids=[row[0] for row in CORPUS])
def test_hostile_file(corpus_results, name, code, line, column, text):
    check(HOSTILE / name, code, line, column, text, corpus_results[name])


def test_syntax_error_points_after_the_open_mapping(corpus_results):
    finding = check(HOSTILE / "syntax-error.yaml", "Y001", None, None, "invalid YAML",
                    corpus_results["syntax-error.yaml"])
    assert finding["line"] >= 4


def test_empty_file_is_not_a_spec(corpus_results):
    """An empty file has no `layers` key: named on the command line, it is one finding saying so, quickly."""
    rc, findings, seconds, peak_mb = corpus_results["empty.yaml"]
    assert rc == 1 and [(f["code"], f["line"]) for f in findings] == [("Y002", 1)]
    assert findings[0]["message"].startswith("not a spec: it has no `layers:` line")
    assert seconds <= cpu_limit() and peak_mb <= MAX_PEAK_MB


def test_python_tag_is_never_executed(tmp_path):
    marker = tmp_path / "ran"
    spec = tmp_path / "spec.yaml"
    spec.write_text("inputs: {x: [1, 3, 8, 8]}\nlayers:\n"
                    f"  - {{type: ReLU, inplace: !!python/object/apply:pathlib.Path.touch [!!python/object/apply:pathlib.Path [\"{marker}\"]]}}\n")
    check(spec, "Y001", 3, 27, "not allowed")
    assert not marker.exists()


def test_deep_flow_nesting(tmp_path):
    from convlint.spec.yaml_source import MAX_DEPTH
    spec = tmp_path / "deep.yaml"
    spec.write_text("layers: " + "[" * 100_000 + "]" * 100_000 + "\n")
    # the top-level mapping is level 1, so the bracket that opens level MAX_DEPTH + 1 is the MAX_DEPTH-th
    check(spec, "Y001", 1, len("layers: ") + MAX_DEPTH, "nesting deeper")


def test_deep_block_nesting(tmp_path):
    from convlint.spec.yaml_source import MAX_DEPTH
    spec = tmp_path / "deep.yaml"
    spec.write_text("layers:\n" + "- " * 50_000 + "x\n")
    check(spec, "Y001", 2, 2 * (MAX_DEPTH - 1) + 1, "nesting deeper")


def test_ten_megabyte_file(tmp_path):
    spec = tmp_path / "big.yaml"
    filler = "  - {type: ReLU}\n"
    spec.write_text("inputs: {x: [1, 3, 8, 8]}\nlayers:\n" + filler * (10_000_000 // len(filler)))
    assert spec.stat().st_size > 9_900_000
    check(spec, "Y001", 1, 1, "larger than")


def test_ten_megabyte_string_value(tmp_path):
    spec = tmp_path / "big.yaml"
    spec.write_text("inputs: {x: [1, 3, 8, 8]}\nlayers:\n  - {type: ReLU, name: " + "n" * 10_000_000 + "}\n")
    check(spec, "Y001", 1, 1, "larger than")


def test_large_yaml_that_is_no_spec_is_skipped(tmp_path):
    data = tmp_path / "dataset.yaml"
    data.write_text("samples:\n" + "  - {file: image.png, label: 3}\n" * 100_000)
    assert data.stat().st_size > 2 * 1024 * 1024
    rc, findings, seconds, peak_mb = lint_in_child(data)
    assert rc == 1 and [(f["code"], f["line"]) for f in findings] == [("Y002", 1)]
    assert findings[0]["message"].startswith("not a spec: no `layers:` line")
    assert seconds <= cpu_limit() and peak_mb <= MAX_PEAK_MB


def test_too_many_layers(tmp_path):
    from convlint.spec.model import MAX_LAYERS
    spec = tmp_path / "long.yaml"
    spec.write_text("inputs: {x: [1, 3, 8, 8]}\nlayers:\n" + "- {type: ReLU}\n" * (MAX_LAYERS + 1))
    check(spec, "Y002", 2, 1, f"{MAX_LAYERS + 1:,} layers")


def test_too_many_values(tmp_path):
    spec = tmp_path / "wide.yaml"
    spec.write_text("inputs: {x: [1, 3, 8, 8]}\nlayers:\n- {type: Conv2d, out_channels: 8, kernel_size: ["
                    + "1," * 900_000 + "1]}\n")
    # 18 values come before the list's items (mappings, keys, the input shape, the list itself),
    # so item i is value 19 + i and item 500,000 − 18 is the first one over the limit.
    check(spec, "Y001", 3, _column_of_value(500_000 - 18), "more than 500,000 values")


def _column_of_value(index: int) -> int:
    """Column of the ``index``-th (0-based) `1` in the kernel_size list of test_too_many_values."""
    return len("- {type: Conv2d, out_channels: 8, kernel_size: [") + 2 * index + 1


def test_many_layers_each_with_findings(tmp_path):
    """The largest accepted spec where every layer has two or three findings stays within the bounds."""
    from convlint.spec.model import MAX_LAYERS
    spec = tmp_path / "bad.yaml"
    spec.write_text("inputs: {x: [1, 3, 8, 8]}\nlayers:\n" + "- {type: Conv2d, kernl_size: 3}\n" * MAX_LAYERS)
    rc, findings, seconds, peak_mb = lint_in_child(spec)
    assert seconds <= cpu_limit() and peak_mb <= MAX_PEAK_MB, (seconds, peak_mb)
    codes = sorted(f["code"] for f in findings)
    # `kernl_size` is one finding (Y006, which names the required `kernel_size`) while the suggestion
    # budget lasts, then Y006 and a Y008 for `kernel_size`; every layer also lacks `out_channels` (Y008)
    assert codes.count("Y006") == MAX_LAYERS and MAX_LAYERS < codes.count("Y008") < 2 * MAX_LAYERS


def test_thousands_of_inputs(tmp_path):
    count = 5000
    spec = tmp_path / "inputs.yaml"
    names = [f"in{i}" for i in range(count)]
    spec.write_text("inputs:\n" + "".join(f"  {name}: [1, 2, 4, 4]\n" for name in names)
                    + f"layers:\n  - {{name: cat, type: Concat, from: [{', '.join(names)}]}}\n")
    rc, findings, seconds, peak_mb = lint_in_child(spec)
    assert (rc, findings) == (0, [])
    assert seconds <= cpu_limit() and peak_mb <= MAX_PEAK_MB
    from convlint import summarize
    assert summarize(spec)["layers"][0]["output_shape"] == [1, 2 * count, 4, 4]


def test_thousands_of_unknown_references(tmp_path):
    """Misspelled names get a suggestion only while a comparison budget lasts, so time stays linear."""
    spec = tmp_path / "refs.yaml"
    count = 15_000
    spec.write_text("inputs: {x: [1, 3, 8, 8]}\nlayers:\n"
                    + "".join(f"- {{name: layer{i}, type: ReLU, from: layr{i}}}\n" for i in range(count)))
    rc, findings, seconds, peak_mb = lint_in_child(spec)
    assert seconds <= cpu_limit() and peak_mb <= MAX_PEAK_MB, (seconds, peak_mb)
    assert [f["code"] for f in findings] == ["G001"] * count
    assert "did you mean `layer0`" in findings[0]["message"]
    assert "did you mean" not in findings[1]["message"]


# Round two: bounded work for every construction and expansion step ------------------------------


def run_in_child(argv: list[str], env: dict | None = None, timeout: int = 120) -> tuple[int, bytes, str, float, float]:
    """(exit code, stdout bytes, stderr, CPU seconds, peak MB) of the command line ``argv`` in a child."""
    child = PEAK_KB + (
        "import resource, sys\n"
        "from convlint.cli.main import main\n"
        "code = main(sys.argv[1:])\n"
        "sys.stdout.flush()\n"
        "usage = resource.getrusage(resource.RUSAGE_SELF)\n"
        "sys.stderr.write(f'USAGE {usage.ru_utime + usage.ru_stime} {peak_kb()}\\n')\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run([sys.executable, "-c", child, *argv], capture_output=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
    err = done.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err and "internal error" not in err, err
    cpu_seconds, peak_kb = err.rsplit("USAGE ", 1)[1].split()[:2]
    return done.returncode, done.stdout, err.rsplit("USAGE ", 1)[0], float(cpu_seconds), int(peak_kb) / 1024


def within_bounds(seconds: float, peak_mb: float) -> None:
    assert seconds <= cpu_limit(), f"{seconds:.2f} s"
    assert peak_mb <= MAX_PEAK_MB, f"{peak_mb:.0f} MB"


def test_base_60_integer(tmp_path):
    """YAML 1.1 reads `1:0:0:…` as a base-60 integer, in time quadratic in its parts."""
    spec = tmp_path / "base60.yaml"
    spec.write_text("inputs: {x: [1, 3, 8, 8]}\nlayers:\n  - {type: Conv2d, out_channels: 4, kernel_size: 1"
                    + ":0" * 500_000 + "}\n")
    check(spec, "Y001", 3, len("  - {type: Conv2d, out_channels: 4, kernel_size: ") + 1, "as int")


def test_duplicate_keys_in_every_layer(tmp_path):
    """One Y003 per layer, each finding its layer without scanning all layers."""
    from convlint.spec.model import MAX_LAYERS
    spec = tmp_path / "dups.yaml"
    spec.write_text("inputs: {x: [1, 3, 8, 8]}\nlayers:\n" + "- {type: ReLU, inplace: false, inplace: true}\n" * MAX_LAYERS)
    rc, findings, seconds, peak_mb = lint_in_child(spec)
    within_bounds(seconds, peak_mb)
    assert [f["code"] for f in findings] == ["Y003"] * MAX_LAYERS
    assert findings[-1]["layer"] == f"relu_{MAX_LAYERS - 1}" and findings[-1]["line"] == MAX_LAYERS + 2


def test_million_term_expression(tmp_path):
    spec = tmp_path / "terms.yaml"
    spec.write_text("inputs: {x: [1, 3, 8, 8]}\nblocks:\n  b: {params: {k: 1}, layers: [{type: Conv2d, "
                    "out_channels: 4, kernel_size: $k}]}\nlayers:\n  - {type: b, k: $(" + "1+" * 900_000 + "1)}\n")
    check(spec, "C001", 5, len("  - {type: b, ") + 1, "more than the 1,000 an expression may have")


def test_unknown_parameter_in_every_repeat(tmp_path):
    """The did-you-mean of an unknown `$param` is worked out once, not once per repeat copy."""
    params = ", ".join(f"param_{i:04d}_{'x' * 60}: 1" for i in range(2000))
    spec = tmp_path / "unknown.yaml"
    spec.write_text("inputs: {x: [1, 3, 8, 8]}\nblocks:\n"
                    f"  b: {{params: {{{params}}}, layers: [{{type: Conv2d, out_channels: 4, kernel_size: $param_0001_{'x' * 59}}}]}}\n"
                    "layers:\n  - {type: b, repeat: 5000}\n")
    finding = check(spec, "C001", None, None, "is not a parameter (did you mean `param_0001_")
    assert finding["line"] == 3


def test_typo_against_huge_names(tmp_path):
    names = [c * 200_000 for c in "abcdefgh"]
    spec = tmp_path / "huge-names.yaml"
    spec.write_text("inputs: {x: [1, 3, 8, 8]}\nlayers:\n" + "".join(f"  - {{name: {n}, type: ReLU}}\n" for n in names)
                    + "  - {type: ReLU, from: " + "a" * 199_999 + "b}\n")
    rc, findings, seconds, peak_mb = lint_in_child(spec)
    within_bounds(seconds, peak_mb)
    (finding,) = findings
    assert (finding["code"], finding["line"], finding["column"]) == ("G001", 11, len("  - {type: ReLU, ") + 1)
    assert finding["message"].startswith("`from` names `aaaa") and "did you mean" not in finding["message"]


def test_noqa_comments_on_every_line(tmp_path):
    count = 9_000
    spec = tmp_path / "noqa.yaml"
    spec.write_text("inputs: {x: [1, 3, 8, 8]}\nlayers:\n"
                    + "- {type: Conv2d, kernl_size: 3}  # convlint: noqa: Y006\n" * count)
    rc, findings, seconds, peak_mb = lint_in_child(spec)
    within_bounds(seconds, peak_mb)
    assert sorted({f["code"] for f in findings}) == ["Y008"]  # Y006 silenced on every line, Y008 not


def test_full_format_output_is_linear(tmp_path):
    """Full output on a long one-line spec: each excerpt line is clipped, the source split once."""
    spec = tmp_path / "wide.yaml"
    spec.write_text("inputs: {x: [1, 3, 8, 8]}\nlayers: [" + ", ".join(["{type: Conv2d, kernl_size: 3}"] * 2000) + "]\n")
    rc, out, err, seconds, peak_mb = run_in_child(["lint", "--format", "full", str(spec)])
    within_bounds(seconds, peak_mb)
    assert rc == 1 and out.count(b"Y006") >= 2000
    assert len(out) < 4_000 * 2000  # 2000 findings of a few short lines each, not the 62 kB line each time


def test_fifo_in_a_linted_folder_is_passed_over(tmp_path):
    (tmp_path / "good.yaml").write_text("inputs: {x: [1, 3, 8, 8]}\nlayers:\n  - {type: ReLU}\n")
    os.mkfifo(tmp_path / "x.yaml")
    rc, out, err, seconds, peak_mb = run_in_child(["lint", "--format", "json", str(tmp_path)], timeout=60)
    within_bounds(seconds, peak_mb)
    assert (rc, json.loads(out)) == (0, [])


def test_fifo_named_on_the_command_line_is_refused(tmp_path):
    os.mkfifo(tmp_path / "x.yaml")
    rc, out, err, seconds, peak_mb = run_in_child(["lint", "--format", "json", str(tmp_path / "x.yaml")], timeout=60)
    (finding,) = json.loads(out)
    assert finding["code"] == "Y001" and "not a regular file" in finding["message"]


def test_exclude_glob_that_would_backtrack(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.convlint]\nexclude = ["*a*a*a*a*a*a*a*a*a*a*a*a*b"]\n')
    (tmp_path / ("a" * 30 + ".yaml")).write_text("inputs: {x: [1, 3, 8, 8]}\nlayers:\n  - {type: ReLU}\n")
    rc, out, err, seconds, peak_mb = run_in_child(["lint", "--config", str(tmp_path / "pyproject.toml"), str(tmp_path)])
    within_bounds(seconds, peak_mb)
    assert rc == 2 and "at most 3" in err


def test_message_length_is_bounded(tmp_path):
    name = "n" * 250_000
    spec = tmp_path / "long.yaml"
    spec.write_text(f"inputs: {{x: [1, 3, 8, 8]}}\nlayers:\n  - {{name: {name}, type: ReLU}}\n  - {{type: ReLU, from: {name}x}}\n")
    rc, findings, seconds, peak_mb = lint_in_child(spec)
    within_bounds(seconds, peak_mb)
    (finding,) = findings
    assert finding["code"] == "G001" and len(finding["message"]) <= 1100
    assert "characters in all" in finding["message"]


def test_oversize_spec_whose_layers_key_comes_late(tmp_path):
    spec = tmp_path / "late.yaml"
    spec.write_text("inputs: {x: [1, 3, 8, 8]}\nnotes:\n" + "  - a note that takes some room\n" * 100_000
                    + "layers:\n  - {type: ReLU}\n")
    assert spec.stat().st_size > 2 * 1024 * 1024
    check(spec, "Y001", 1, 1, "larger than")


def test_broken_parent_pyproject_of_another_tool_is_ignored(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.black\nline-length = 100\n")
    project = tmp_path / "sub"
    project.mkdir()
    (project / "net.yaml").write_text("inputs: {x: [1, 3, 8, 8]}\nlayers:\n  - {type: ReLU}\n")
    done = subprocess.run([sys.executable, "-m", "convlint", "lint", "net.yaml"], cwd=project, capture_output=True,
                          text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})
    assert done.returncode == 0, done.stderr


# Round two: untrusted text stays inert in every output format ---------------------------------------


def test_control_characters_and_newlines_are_escaped_in_text_formats():
    spec = HOSTILE / "control-chars-in-name.yaml"
    for format_ in ("concise", "full", "github"):
        rc, out, err, seconds, peak_mb = run_in_child(["lint", "--format", format_, str(spec)])
        text = out.decode("utf-8")
        assert rc == 1
        assert "\x1b" not in text and "\x07" not in text, format_
        assert "X999 forged" in text and not any(line.startswith("fake.yaml") for line in text.splitlines())
        assert "\\x1b]0;pwned\\x07" in text, format_


def test_file_names_with_newlines_and_undecodable_bytes(tmp_path):
    folder = os.fsencode(tmp_path)
    for raw in (b"bad\xff name.yaml", b"two\nlines.yaml"):
        with open(os.path.join(folder, raw), "w") as stream:
            stream.write("inputs: {x: [1, 3, 8, 8]}\nlayers:\n  - {type: Conv2d, out_channels: 4, kernel_size: 3, kernl: 2}\n")
    rc, out, err, seconds, peak_mb = run_in_child(["lint", "--format", "concise", str(tmp_path)])
    lines = out.decode("utf-8").splitlines()
    assert len(lines) == 3 and "bad\\xff name.yaml" in lines[0] and "two\\x0alines.yaml" in lines[1]
    rc, out, err, seconds, peak_mb = run_in_child(["lint", "--format", "json", str(tmp_path)])
    paths = [f["path"] for f in json.loads(out.decode("utf-8"))]
    assert any(path.endswith("bad\\xff name.yaml") for path in paths) and any("two\nlines" in p for p in paths)
    rc, out, err, seconds, peak_mb = run_in_child(["lint", "--format", "sarif", str(tmp_path)])
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in json.loads(out.decode("utf-8"))["runs"][0]["results"]]
    assert any(uri.endswith("bad%FF%20name.yaml") for uri in uris)


def test_ascii_only_terminal():
    rc, out, err, seconds, peak_mb = run_in_child(["lint", str(HOSTILE / "cycle.yaml")], env={"PYTHONIOENCODING": "ascii"})
    assert rc == 1 and b"a \\u2192 b \\u2192 a" in out


def test_sizes_try_with_a_non_ascii_digit():
    rc, out, err, seconds, peak_mb = run_in_child(["sizes", str(HOSTILE.parent.parent / "specs" / "lenet5.yaml"),
                                                   "--try", "H=²"])
    assert rc == 2 and "positive integer" in err


def test_dot_source_has_generated_ids_only(tmp_path):
    """Names cannot add nodes, edges or attributes: every node ID is generated, and `dot` draws the names as text."""
    import re
    target = tmp_path / "net.dot"
    rc, out, err, seconds, peak_mb = run_in_child(["render", str(HOSTILE / "dot-injection.yaml"), "-o", str(target)])
    assert rc == 0, err
    source = target.read_text()
    statements = re.findall(r"^\t(\S+)(?: -> (\S+))? \[", source, re.MULTILINE)
    named = {node for pair in statements for node in pair if node} - {"graph", "node", "edge"}
    assert named <= {"n0", "n1", "n2", "n3", "legend"}
    svg = tmp_path / "net.svg"
    rc, out, err, seconds, peak_mb = run_in_child(["render", str(HOSTILE / "dot-injection.yaml"), "-o", str(svg)])
    assert rc == 0, err
    drawn = svg.read_text()
    assert "javascript:" in drawn and 'href="javascript' not in drawn and "pwn" not in re.findall(r"<title>(.*?)</title>", drawn)
