"""Loading plugins and collecting the layer types and rules they register.

Built-in layers and third-party plugins are found the same way: modules
published under the ``convlint`` entry-point group, registered with a pluggy
``PluginManager``.  A project's own plugin modules load without packaging:
named in ``[tool.convlint] plugins`` or with ``-p`` as a dotted module name
(``mypkg.layers``, imported from the project root or ``sys.path``) or as the
path of a ``.py`` file (see :func:`import_local_plugin`).  Each plugin's hooks are called separately so that a
plugin that fails to import, raises, or claims a type name another plugin
owns is reported against that plugin alone.
"""
from __future__ import annotations

import atexit
import gc
import importlib
import importlib.util
import io
import re
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Iterable

import pluggy

from convlint.layers import hookspecs
from convlint.layers.layer_type import DIAGRAM_ROLES, LayerType
from convlint.rules import RULES, Rule

ENTRY_POINT_GROUP = "convlint"
DISTRIBUTION = "convlint"


PLUGIN_TIME_LIMIT = 1.0
"""Most seconds (wall clock) one call into a plugin may take for one layer before it is stopped and
reported as X001; every built-in layer type needs well under a millisecond."""

MAX_PLUGIN_OUTPUT = 2000
"""Most characters of what a plugin printed that are passed on to stderr."""


class PluginFault(Exception):
    """A plugin stopped the program (``SystemExit``, ``KeyboardInterrupt``) or ran past
    :data:`PLUGIN_TIME_LIMIT`; the message says which."""


class _TimeUp(BaseException):
    """Raised inside a plugin's code when its time is up (a BaseException, so that the plugin's
    own ``except Exception`` cannot swallow it)."""


def _time_up(signum, frame) -> None:
    """SIGALRM handler, ticking while plugin calls run: stops the call in progress once it has run past
    its limit; with no call in progress, it stops the ticking."""
    if not plugin_call.active:
        signal.setitimer(signal.ITIMER_REAL, 0)
        plugin_call.ticking, plugin_call.tick = False, float("inf")
    elif time.monotonic() > plugin_call.deadline:
        plugin_call.deadline = float("inf")  # once per call
        raise _TimeUp


class plugin_call:  # noqa: N801 - used as a context manager, named like one
    """Run a block of plugin code in isolation: ``with plugin_call("conv"): ...``.

    What the plugin prints is kept away from stdout (which may carry JSON or SARIF) and passed on to
    stderr; ``SystemExit`` and ``KeyboardInterrupt`` become :class:`PluginFault`, as does running past
    ``time_limit`` seconds.  The limit is enforced by a ``SIGALRM`` timer ticking every quarter of the
    limit while plugin calls run (main thread only, and only when no other SIGALRM handler is
    installed): a block costs no system call, and a hang is stopped within 1.25 × the limit.  Other
    exceptions pass through for the caller to report.
    """

    active = 0
    """Blocks in progress (nested blocks share the outermost block's limit)."""
    deadline = float("inf")
    """``time.monotonic()`` past which the outermost block in progress is stopped."""
    ticking = False
    """Whether the timer is running."""
    tick = float("inf")
    """Seconds between the timer's ticks: a quarter of the shortest limit since it started."""
    collector_was_enabled = False
    """Whether the cycle collector ran before the outermost block in progress paused it."""

    __slots__ = ("plugin", "time_limit", "stdout", "captured")

    def __init__(self, plugin: str, time_limit: float = PLUGIN_TIME_LIMIT):
        self.plugin, self.time_limit = plugin, time_limit

    def __enter__(self) -> None:
        if plugin_call.active == 0:
            # a collection walks every object of the process: on a large spec it can take longer than a
            # plugin's whole limit without being the plugin's doing, so none runs inside a block
            plugin_call.collector_was_enabled = gc.isenabled()
            gc.disable()
        if plugin_call.active == 0 and _can_time():
            plugin_call.deadline = time.monotonic() + self.time_limit
            tick = self.time_limit / 4
            if not plugin_call.ticking or tick < plugin_call.tick:
                signal.setitimer(signal.ITIMER_REAL, tick, tick)
                plugin_call.ticking, plugin_call.tick = True, tick
        plugin_call.active += 1
        self.stdout, self.captured = sys.stdout, io.StringIO()
        sys.stdout = self.captured

    def __exit__(self, kind, error, traceback) -> None:
        plugin_call.active -= 1
        if plugin_call.active == 0:
            plugin_call.deadline = float("inf")
            if plugin_call.collector_was_enabled:
                gc.enable()
        sys.stdout = self.stdout
        _pass_on(self.plugin, self.captured.getvalue())
        if kind is _TimeUp:
            raise PluginFault(f"ran for more than {self.time_limit:g} s and was stopped") from None
        if kind is not None and issubclass(kind, (SystemExit, KeyboardInterrupt)):
            code = ""
            if isinstance(error, SystemExit):
                small = error.code is None or (isinstance(error.code, int) and abs(error.code) < 2**31)
                code = f"({error.code!r})" if small else "(…)"
            raise PluginFault(f"raised {kind.__name__}{code}, which would end the program") from None


_handler_installed = False


def _can_time() -> bool:
    """True when the SIGALRM timer can be used: main thread, and no other handler installed."""
    global _handler_installed
    if _handler_installed:
        return threading.current_thread() is threading.main_thread()
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        return False
    if signal.getsignal(signal.SIGALRM) is not signal.SIG_DFL:
        return False
    signal.signal(signal.SIGALRM, _time_up)
    atexit.register(signal.setitimer, signal.ITIMER_REAL, 0)  # no tick after the handler is gone
    _handler_installed = True
    return True


def _pass_on(plugin: str, printed: str) -> None:
    """Write what ``plugin`` printed to stderr, escaped and cut to :data:`MAX_PLUGIN_OUTPUT`."""
    if printed:
        from convlint.escaping import printable

        sys.stderr.write(f"convlint: plugin `{plugin}` printed: {printable(printed, MAX_PLUGIN_OUTPUT)}\n")


@dataclass
class Registry:
    """The layer types and rules available to a lint run.

    ``types`` maps a type name to its :class:`LayerType`; ``owners`` maps the
    same name to the plugin that registered it.  ``problems`` lists plugin
    faults found while loading (reported as X001 findings on every run).
    """

    types: dict[str, LayerType] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)
    rules: dict[str, Rule] = field(default_factory=lambda: dict(RULES))
    problems: list[str] = field(default_factory=list)
    plugins: dict[str, list[str]] = field(default_factory=dict)
    manager: pluggy.PluginManager | None = None


@lru_cache(maxsize=1)
def default_registry() -> Registry:
    """The layer types of every installed plugin (``convlint`` entry points), loaded once."""
    return load_registry()


def new_manager() -> pluggy.PluginManager:
    """A PluginManager for the ``convlint`` project with its hookspecs added."""
    manager = pluggy.PluginManager(ENTRY_POINT_GROUP)
    manager.add_hookspecs(hookspecs)
    return manager


def installed_plugin_names() -> set[str]:
    """The names of the plugins published under the ``convlint`` entry-point group."""
    return {point.name for point in metadata.entry_points(group=ENTRY_POINT_GROUP)}


def is_plugin_file(reference: str) -> bool:
    """True when a local plugin ``reference`` is a file path (``layers.py``, ``tools/layers``) rather than a module name."""
    return reference.endswith(".py") or "/" in reference or "\\" in reference


def import_local_plugin(reference: str, root: Path | None = None) -> ModuleType:
    """The plugin module ``reference`` names, imported.

    A path (see :func:`is_plugin_file`), relative to ``root`` (default: the current directory),
    is imported as a module of its own, named after the file; its directory is put on ``sys.path``
    so that it can import its neighbours.  Anything else is a dotted module name, imported
    with ``root`` first on ``sys.path``.  Raises ``ImportError`` (or the module's own exception).
    """
    root = Path.cwd() if root is None else root
    if is_plugin_file(reference):
        path = (root / reference).resolve()
        if not path.is_file():
            raise ImportError(f"no such file: {path}")
        name = "convlint_local_" + re.sub(r"\W", "_", path.stem)
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {path} as a Python module")
        module = importlib.util.module_from_spec(spec)
        _on_path(path.parent)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
        return module
    _on_path(root.resolve())
    return importlib.import_module(reference)


def _on_path(directory: Path) -> None:
    if str(directory) not in sys.path:
        sys.path.insert(0, str(directory))


def _entry_points(only_distribution: str | None) -> list[metadata.EntryPoint]:
    points = [point for point in metadata.entry_points(group=ENTRY_POINT_GROUP)
              if only_distribution is None or (point.dist is not None and point.dist.name == only_distribution)]
    return sorted(points, key=lambda point: point.name)


def load_registry(disabled: Iterable[str] = (), only_distribution: str | None = None,
                  extra: Iterable[tuple[str, object]] = (), local: Iterable[tuple[str, Path]] = ()) -> Registry:
    """Load plugins from the ``convlint`` entry points (plus ``extra`` (name, plugin) pairs).

    ``disabled`` names plugins not to load (like pytest's ``-p no:NAME``).
    ``only_distribution`` keeps only the entry points of that distribution,
    so tests see exactly this package's own plugins.  ``local`` are the project's own
    plugin modules as (reference, root) pairs, each reference a dotted module name or a ``.py``
    path relative to its root (see :func:`import_local_plugin`), registered under the reference
    as written; one that fails to import is a problem (X001) of its own.
    """
    manager = new_manager()
    registry = Registry(manager=manager)
    blocked = set(disabled)
    for name in blocked:
        manager.set_blocked(name)
    for point in _entry_points(only_distribution):
        if point.name in blocked or manager.get_plugin(point.name) is not None:
            continue
        try:
            with plugin_call(point.name, time_limit=10 * PLUGIN_TIME_LIMIT):  # an import may take longer
                plugin = point.load()
            manager.register(plugin, name=point.name)
        except PluginFault as fault:
            registry.problems.append(f"plugin `{point.name}` failed to load: {fault}")
        except Exception as error:  # a broken plugin must not stop the others
            registry.problems.append(f"plugin `{point.name}` failed to load: {type(error).__name__}: {error}")
    for reference, root in local:
        if reference in blocked or manager.get_plugin(reference) is not None:
            continue
        try:
            with plugin_call(reference, time_limit=10 * PLUGIN_TIME_LIMIT):  # an import may take longer
                plugin = import_local_plugin(reference, root)
            manager.register(plugin, name=reference)
        except PluginFault as fault:
            registry.problems.append(f"plugin `{reference}` failed to load: {fault}")
        except Exception as error:  # a broken local plugin must not stop the others
            registry.problems.append(f"plugin `{reference}` failed to load: {type(error).__name__}: {error}")
    for name, plugin in extra:
        if name in blocked:
            continue
        try:
            manager.register(plugin, name=name)
        except Exception as error:  # e.g. a hook with the wrong signature
            registry.problems.append(f"plugin `{name}` cannot be registered: {type(error).__name__}: {error}")
    _collect(registry, manager)
    return registry


def _collect(registry: Registry, manager: pluggy.PluginManager) -> None:
    for impl in manager.hook.register_rules.get_hookimpls():
        _call(registry, impl, lambda rule, plugin=impl.plugin_name: _add_rule(registry, plugin, rule))
    for impl in manager.hook.register_layer_types.get_hookimpls():
        registry.plugins.setdefault(impl.plugin_name, [])
        _call(registry, impl, lambda layer_type, plugin=impl.plugin_name: _add_type(registry, plugin, layer_type))
    for name, plugin in manager.list_name_plugin():
        if plugin is not None:  # blocked (disabled) plugins are listed with None
            registry.plugins.setdefault(name, [])


def _call(registry: Registry, impl, register) -> None:
    try:
        with plugin_call(impl.plugin_name):
            impl.function(register=register)
    except PluginFault as fault:
        registry.problems.append(f"plugin `{impl.plugin_name}` {fault}")
    except Exception as error:
        registry.problems.append(f"plugin `{impl.plugin_name}` raised {type(error).__name__}: {error}")


def _add_rule(registry: Registry, plugin: str, rule: Rule) -> None:
    if not isinstance(rule, Rule):
        registry.problems.append(f"plugin `{plugin}` registered {rule!r}, which is not a convlint.Rule")
    elif rule.code in registry.rules:
        registry.problems.append(f"plugin `{plugin}` registered rule {rule.code}, which is already defined")
    else:
        registry.rules[rule.code] = rule


def _add_type(registry: Registry, plugin: str, layer_type: LayerType) -> None:
    if not isinstance(layer_type, LayerType) or not isinstance(layer_type.name, str) or not layer_type.name:
        registry.problems.append(f"plugin `{plugin}` registered {layer_type!r}, which is not a named convlint.LayerType")
        return
    if layer_type.diagram_role not in DIAGRAM_ROLES:
        registry.problems.append(f"plugin `{plugin}` registered layer type `{layer_type.name}` with diagram_role "
                                 f"{layer_type.diagram_role!r}; use one of {', '.join(DIAGRAM_ROLES)}")
        return
    owner = registry.owners.get(layer_type.name)
    if owner is not None:
        registry.problems.append(
            f"plugin `{plugin}` registered layer type `{layer_type.name}`, which plugin `{owner}` already provides")
        return
    registry.types[layer_type.name] = layer_type
    registry.owners[layer_type.name] = plugin
    registry.plugins.setdefault(plugin, []).append(layer_type.name)
