"""The ``[tool.convlint]`` configuration: where it is found, what it may say, and checking it.

Like ruff, convlint takes its settings from the nearest ``pyproject.toml`` with a
``[tool.convlint]`` table, searching from the current directory upwards, or from the file
given with ``--config`` (the same keys at its top level or under ``[tool.convlint]``).
Relative globs are read from the directory of that file (the project root).  Any problem
is a :class:`ConfigError` that names the file and the key (exit code 2).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from convlint.linting.globs import check_pattern

PYPROJECT = "pyproject.toml"
BUDGET_KEYS = ("params", "macs")
"""What a budget may limit: learnable parameters, and multiply-accumulates of one forward pass."""


class ConfigError(Exception):
    """The configuration cannot be used; the message names the file and the key."""


@dataclass
class Config:
    """Settings of one lint run; the defaults are those of a project without configuration.

    ``select``: ``None`` for the default rule set, else the codes or code prefixes to enable.
    ``include``: ``None`` to lint every named file and every ``*.yaml``/``*.yml`` below named
    directories, else the globs a file must match.
    ``budget`` maps ``params`` and/or ``macs`` to the largest count a spec may have.
    ``plugins`` are the project's own plugin modules: dotted module names (imported with the
    project root on ``sys.path``) or ``.py`` paths relative to the project root.
    """

    select: list[str] | None = None
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    include: list[str] | None = None
    exclude: list[str] = field(default_factory=list)
    report_padding_only_remainder: bool = False
    budget: dict[str, int] = field(default_factory=dict)
    plugins: list[str] = field(default_factory=list)
    root: Path = field(default_factory=Path.cwd)
    source: Path | None = None


def _load_toml(path: Path) -> dict:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the configuration: {error.strerror or error}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None


def _convlint_table(data: dict) -> dict | None:
    tool = data.get("tool")
    return tool.get("convlint") if isinstance(tool, dict) else None


def find_pyproject(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` at or above ``start`` that has a ``[tool.convlint]`` table."""
    for directory in (start.resolve(), *start.resolve().parents):
        candidate = directory / PYPROJECT
        if candidate.is_file() and _is_ours(candidate):
            return candidate
    return None


def _is_ours(candidate: Path) -> bool:
    """True when the pyproject.toml ``candidate`` has a ``[tool.convlint]`` table.  A file that is no
    valid TOML counts only when its text mentions ``tool.convlint`` (then its error is reported);
    another project's broken file is none of convlint's business."""
    try:
        return _convlint_table(_load_toml(candidate)) is not None
    except ConfigError:
        try:
            mentions = b"tool.convlint" in candidate.read_bytes()
        except OSError:
            mentions = False
        if mentions:
            raise
        return False


def load_config(explicit: str | Path | None = None, start: Path | None = None) -> Config:
    """The configuration from ``explicit`` (``--config``), else from the nearest pyproject.toml.

    Without either, the defaults, with the project root at ``start`` (default: the current directory).
    """
    start = start or Path.cwd()
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"{path}: no such configuration file")
        data = _load_toml(path)
        table = _convlint_table(data)
        return parse_config(table if table is not None else data, path)
    found = find_pyproject(start)
    if found is None:
        return Config(root=start.resolve())
    table = _convlint_table(_load_toml(found))
    return parse_config(table if table is not None else {}, found)  # {}: the table went between the two reads


def _strings(where: str, key: str, value) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ConfigError(f"{where}: `{key}` must be a list of strings, got {value!r}")
    return list(value)


def _count(where: str, key: str, value) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ConfigError(f"{where}: `{key}` must be a non-negative integer, got {value!r}")
    return value


def _check_globs(where: str, patterns) -> None:
    for pattern in patterns:
        problem = check_pattern(pattern)
        if problem:
            raise ConfigError(f"{where}: {problem}")


def parse_config(table: dict, path: Path) -> Config:
    """Check the ``[tool.convlint]`` ``table`` read from ``path`` and turn it into a :class:`Config`."""
    where = str(path)
    config = Config(root=path.resolve().parent, source=path)
    for key, value in table.items():
        if key in ("select", "extend-select", "ignore", "include", "exclude", "plugins"):
            setattr(config, key.replace("-", "_"), _strings(where, key, value))
            if key in ("include", "exclude"):
                _check_globs(where, value)
        elif key == "per-file-ignores":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: `per-file-ignores` must be a table of glob = [codes], got {value!r}")
            config.per_file_ignores = {glob: _strings(where, f"per-file-ignores.{glob}", codes)
                                       for glob, codes in value.items()}
            _check_globs(where, value)
        elif key == "report-padding-only-remainder":
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: `{key}` must be true or false, got {value!r}")
            config.report_padding_only_remainder = value
        elif key == "budget":
            config.budget = parse_budget(where, "budget", value)
        else:
            raise ConfigError(f"{where}: unknown key `{key}` (known: select, extend-select, ignore, "
                              f"per-file-ignores, include, exclude, report-padding-only-remainder, budget, plugins)")
    return config


def parse_budget(where: str, key: str, value) -> dict[str, int]:
    """A ``budget`` table: ``params`` and/or ``macs``, each a non-negative integer."""
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: `{key}` must be a table with `params` and/or `macs`, got {value!r}")
    unknown = [name for name in value if name not in BUDGET_KEYS]
    if unknown:
        raise ConfigError(f"{where}: unknown key `{key}.{unknown[0]}` (known: params, macs)")
    return {name: _count(where, f"{key}.{name}", count) for name, count in value.items()}
