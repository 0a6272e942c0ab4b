"""Safe YAML loading that keeps source positions and refuses what it should not walk.

Mappings load as :class:`Node` dicts and sequences as :class:`NodeList`
lists; both carry the 1-based ``line``/``column`` of where they start, and
mappings also the position of each key.

The document is built in one iterative pass over the parser's events
(libyaml's ``CParser`` when available, PyYAML's pure-Python parser
otherwise), with no recursion, so that hostile input fails fast with a
position instead of crashing or hanging:

- only plain YAML values are built (null, bool, int, float, str, timestamp,
  binary, mappings and sequences); ``!!python/...`` and every other tag is
  refused;
- nesting deeper than :data:`MAX_DEPTH` is refused;
- a document may stand for at most :data:`MAX_NODES` values, counting each
  alias as the size of what it names, so "billion laughs" documents are
  refused without being expanded; an alias inside the collection it names is
  refused;
- duplicate keys are collected (the last value is kept, as YAML does), and
  ``<<`` merge keys work as in PyYAML's safe loader.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NoReturn

import yaml

from convlint.spec.cycle_collector import paused_cycle_collector
from convlint.spec.yaml_words import plain_words

_Loader: type[yaml.SafeLoader] | type[yaml.CSafeLoader]
try:
    _Loader = yaml.CSafeLoader
except AttributeError:  # libyaml not compiled in
    _Loader = yaml.SafeLoader

MAX_DEPTH = 100
_LIBYAML_DEPTH_LIMIT = "exceeded maximum nesting depth"
"""libyaml's own message for nesting past its limit (1000 levels, PyYAML 6.0.4 and later)."""
"""Deepest nesting of mappings and sequences accepted (real specs use fewer than 10 levels)."""

MAX_NODES = 500_000
"""Most values (scalars and collections, aliases counted as what they name) in one document."""

MAX_INT_CHARACTERS = 4300
"""Longest integer literal read (any base, underscores and ``:`` included; Python's own limit for
base 10).  Longer ones are refused before conversion, which is quadratic for base 60 (``1:0:0:…``)
and unbounded for hexadecimal."""

MAX_CACHED_SCALAR = 40
"""Plain scalars up to this many characters are converted once per document and reused, so that
repeated keyword values cost one conversion and each layer name is one string object (name
lookups then compare by identity)."""

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_TAG + name for name in ("null", "bool", "int", "float", "str", "timestamp", "binary")}
_MAP_TAGS = (None, "!", _TAG + "map")
_SEQ_TAGS = (None, "!", _TAG + "seq")
_MERGE = object()
"""Stands for a ``<<`` merge key while its mapping is being built."""


class Node(dict):
    """A YAML mapping with its position and the position of each key."""

    __slots__ = ("line", "column", "key_positions")

    def __init__(self, line: int = 0, column: int = 0):
        super().__init__()
        self.line, self.column = line, column
        self.key_positions: dict = {}

    def position_of(self, key) -> tuple[int, int]:
        """(line, column) of ``key`` in the source, or of the mapping when absent."""
        return self.key_positions.get(key, (self.line, self.column))


class NodeList(list):
    """A YAML sequence with its position and the position of each item."""

    __slots__ = ("line", "column", "item_positions")

    def __init__(self, line: int = 0, column: int = 0):
        super().__init__()
        self.line, self.column = line, column
        self.item_positions: list = []


@dataclass
class YamlProblem:
    """A problem found while reading YAML: message and 1-based position."""

    code: str
    message: str
    line: int
    column: int


class YamlError(Exception):
    """The document cannot be loaded at all."""

    def __init__(self, problem: YamlProblem):
        super().__init__(problem.message)
        self.problem = problem


@dataclass
class Document:
    """A loaded YAML document: its data and the problems met on the way."""

    data: object
    problems: list[YamlProblem] = field(default_factory=list)


def _position(mark) -> tuple[int, int]:
    return mark.line + 1, mark.column + 1


def _fail(message: str, position: tuple[int, int], code: str = "Y001") -> NoReturn:
    raise YamlError(YamlProblem(code, message, *position))


class _Frame:
    """A mapping or sequence under construction."""

    __slots__ = ("data", "anchor", "size", "key", "key_position", "merges")

    def __init__(self, data, anchor):
        self.data = data
        self.anchor = anchor
        self.size = 1
        self.key = None
        self.key_position = None
        self.merges: list = []


class _Builder:
    """Turns parser events into :class:`Node`/:class:`NodeList` data, one event at a time."""

    def __init__(self, loader, max_nodes: int | None):
        self.loader = loader
        self.max_nodes = max_nodes if max_nodes is not None else float("inf")
        self.expanded = 0
        self.stack: list[_Frame] = []
        self.anchors: dict[str, tuple[object, int] | None] = {}
        self.problems: list[YamlProblem] = []
        self.scalars: dict[str, object] = {}
        self.root = None

    def run(self):
        get_event = self.loader.get_event
        handlers = {
            yaml.ScalarEvent: self.scalar, yaml.MappingStartEvent: self.mapping_start,
            yaml.SequenceStartEvent: self.sequence_start, yaml.MappingEndEvent: self.collection_end,
            yaml.SequenceEndEvent: self.collection_end, yaml.AliasEvent: self.alias,
        }
        documents = 0
        while True:
            event = get_event()
            handler = handlers.get(type(event))
            if handler is not None:
                handler(event)
            elif isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    _fail("a spec file holds one YAML document, but another one starts here",
                          _position(event.start_mark))
            elif event is None or isinstance(event, yaml.StreamEndEvent):
                return self.root

    # values -----------------------------------------------------------------------------------

    def scalar(self, event) -> None:
        tag, text = event.tag, event.value
        plain = tag is None and event.implicit[0]
        if plain and len(text) <= MAX_CACHED_SCALAR and text in self.scalars:
            value = self.scalars[text]
        else:
            value = self._construct_scalar(event)
            if plain and len(text) <= MAX_CACHED_SCALAR:
                self.scalars[text] = value
        if event.anchor is not None:
            self.anchors[event.anchor] = (value, 1)
        self.expanded += 1
        if self.expanded > self.max_nodes:
            self._too_many(event)
        mark = event.start_mark
        self.deliver(value, mark.line + 1, mark.column + 1, 1)

    def _too_many(self, event) -> None:
        _fail(f"the document holds more than {self.max_nodes:,} values; refusing to read further",
              _position(event.start_mark))

    def _construct_scalar(self, event):
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag == _TAG + "merge":
            return _MERGE
        if tag == _TAG + "value":  # a lone `=`: YAML 1.1's "default value" indicator, read as text
            return event.value
        if tag not in _SCALAR_TAGS:
            _fail(f"tag {tag!r} is not allowed: specs hold plain YAML values only", _position(event.start_mark))
        if tag == _TAG + "int" and len(event.value) > MAX_INT_CHARACTERS:
            _fail(f"cannot read {event.value[:37]!r}... as int: {len(event.value):,} characters, more than the "
                  f"{MAX_INT_CHARACTERS} read as one integer", _position(event.start_mark))
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            return self.loader.yaml_constructors[tag](self.loader, node)
        except (ValueError, TypeError, yaml.YAMLError) as error:
            shown = event.value if len(event.value) <= 40 else event.value[:37] + "..."
            _fail(f"cannot read {shown!r} as {tag.rsplit(':', 1)[-1]}: {error}", _position(event.start_mark))

    def alias(self, event) -> None:
        position = _position(event.start_mark)
        if event.anchor not in self.anchors:
            _fail(f"alias *{event.anchor} names no anchor defined before it", position)
        target = self.anchors[event.anchor]
        if target is None:
            _fail(f"alias *{event.anchor} refers to the collection that contains it", position)
        value, size = target
        self.expanded += size
        if self.expanded > self.max_nodes:
            _fail(f"aliases expand this document to more than {self.max_nodes:,} values (alias *{event.anchor} "
                  f"alone stands for {size:,}); refusing to expand them", position)
        self.deliver(value, *position, size)

    def deliver(self, value, line: int, column: int, size: int) -> None:
        """Hand a finished value (``size`` nodes once expanded), written at ``line``/``column``, to its parent."""
        frame = self.stack[-1] if self.stack else None
        if value is _MERGE and (frame is None or type(frame.data) is NodeList or frame.key_position is not None):
            value = "<<"  # `<<` merges only as a mapping key; anywhere else it is text
        if frame is None:
            self.root = value
            return
        frame.size += size
        data = frame.data
        if type(data) is NodeList:
            data.append(value)
            data.item_positions.append((line, column))
        elif frame.key_position is None:
            try:
                hash(value)
            except TypeError:
                _fail("a mapping key must be a plain value", (line, column), "Y002")
            frame.key, frame.key_position = value, (line, column)
        else:
            self._store(frame, value, line, column)

    def _store(self, frame: _Frame, value, line: int, column: int) -> None:
        """Store ``value`` (written at ``line``/``column``) under the key that ``frame`` holds."""
        key, position = frame.key, frame.key_position
        frame.key_position = None
        data: Node = frame.data
        if key is _MERGE:
            merged = value if isinstance(value, list) else [value]
            if not all(isinstance(item, Node) for item in merged):
                _fail("`<<` merges a mapping or a list of mappings", (line, column))
            frame.merges.append((merged, position))
            return
        if key in data.key_positions:
            first = data.key_positions[key][0]
            self.problems.append(YamlProblem(
                "Y003", f"duplicate key {key!r} (first defined on line {first}); YAML would keep only this one",
                *position))
        data[key] = value
        data.key_positions[key] = position

    # collections ------------------------------------------------------------------------------

    def _open(self, event, data, allowed_tags) -> None:
        if event.tag not in allowed_tags:
            _fail(f"tag {event.tag!r} is not allowed: specs hold plain mappings and lists only",
                  _position(event.start_mark))
        if len(self.stack) >= MAX_DEPTH:
            _fail(f"nesting deeper than {MAX_DEPTH} levels; refusing to read further", _position(event.start_mark))
        if event.anchor is not None:
            self.anchors[event.anchor] = None  # in progress: an alias to it now would be recursive
        self.stack.append(_Frame(data, event.anchor))
        self.expanded += 1
        if self.expanded > self.max_nodes:
            self._too_many(event)

    def mapping_start(self, event) -> None:
        self._open(event, Node(event.start_mark.line + 1, event.start_mark.column + 1), _MAP_TAGS)

    def sequence_start(self, event) -> None:
        self._open(event, NodeList(event.start_mark.line + 1, event.start_mark.column + 1), _SEQ_TAGS)

    def collection_end(self, event) -> None:
        frame = self.stack.pop()
        data = frame.data
        for merged, position in frame.merges:
            for source in merged:  # earlier keys win: explicit ones, then the first mapping merged
                for key, value in source.items():
                    if key not in data:
                        data[key] = value
                        data.key_positions[key] = position
        if frame.anchor is not None:
            self.anchors[frame.anchor] = (data, frame.size)
        self.deliver(data, data.line, data.column, frame.size)


def _reader_position(text: str, offset: int, loader_class: type) -> tuple[int, int]:
    """1-based (line, column) of a reader error's offset (in UTF-8 bytes for libyaml, else characters)."""
    if loader_class is not yaml.SafeLoader:
        offset = len(text.encode("utf-8")[:offset].decode("utf-8", "ignore"))
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def load_yaml(text: str, max_nodes: int | None = MAX_NODES) -> Document:
    """Load one YAML document from ``text``.

    Raises :class:`YamlError` (with a position) for syntax errors, refused
    tags, several documents, nesting deeper than :data:`MAX_DEPTH`, or more
    than ``max_nodes`` values once aliases are expanded (``None``: no limit, for trusted input).  The garbage collector is
    paused while the document is built (it only holds fresh, acyclic objects).
    """
    try:
        return _load_with(_Loader, text, max_nodes)
    except YamlError as error:
        if _Loader is yaml.SafeLoader or _LIBYAML_DEPTH_LIMIT not in error.problem.message:
            raise
    # libyaml scans flow collections ahead and refuses its own (deeper) nesting limit before the
    # events reach MAX_DEPTH; the pure-Python parser streams, so it finds the place MAX_DEPTH is passed.
    return _load_with(yaml.SafeLoader, text, max_nodes)


def _load_with(loader_class, text: str, max_nodes: int | None) -> Document:
    """:func:`load_yaml` with one PyYAML loader class."""
    loader = None
    try:
        loader = loader_class(text)  # the pure-Python reader checks the characters here
        builder = _Builder(loader, max_nodes)
        with paused_cycle_collector():
            data = builder.run()
    except YamlError:
        raise
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = plain_words(error.problem or "", error.context or "", text, line, column)
        raise YamlError(YamlProblem("Y001", f"invalid YAML: {message}", line, column)) from None
    except yaml.reader.ReaderError as error:
        line, column = _reader_position(text, error.position, loader_class)
        raise YamlError(YamlProblem("Y001", f"invalid YAML: {error.reason}", line, column)) from None
    except yaml.YAMLError as error:
        raise YamlError(YamlProblem("Y001", f"invalid YAML: {error}", 1, 1)) from None
    finally:
        if loader is not None:
            loader.dispose()
    return Document(data, builder.problems)
