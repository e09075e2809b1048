"""Read an existing config file into plain data plus the line:column of every key and value.

``obsgen lint`` judges files written by hand, so it reads them the way the tool that will load them
does, not the way PyYAML would:

* YAML 1.2 scalars for the Go tools on ``gopkg.in/yaml.v3`` (the Collector's confmap, Grafana's
  provisioning, Prometheus' rulefmt): ``yes``/``on`` and ``1:20`` are strings, ``0o17`` and ``1_000``
  are integers. Checked against the Collector 0.159.0 binary: ``insecure: yes`` is refused as
  "expected type 'bool', got unconvertible type 'string'".
* YAML 1.1 scalars (PyYAML's resolver) for Tempo, which reads its config with ``gopkg.in/yaml.v2``.
* Merge keys (``<<``) and aliases are expanded as both yaml libraries do; a duplicate key is an error,
  as in yaml.v3 ("mapping key already defined").
* JSON (dashboards) is read with Python's own JSON scanner, one value at a time, keeping positions.

Positions are kept as in ``obsgen.spec.loader``: ``positions[loc]`` is where the value at ``loc``
starts, ``key_positions[loc]`` where its key is written.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import yaml

from obsgen.diagnostics import Diagnostic

try:  # the C composer is faster; the pure one behaves the same
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 128
MAX_NODES = 500_000  # counts aliased nodes every time they are expanded: bounds "billion laughs"

Loc = tuple[str | int, ...]

_FORBIDDEN_CHAR = yaml.reader.Reader.NON_PRINTABLE  # the characters YAML forbids; why shared: obsgen/spec/loader.py
_MERGE = "tag:yaml.org,2002:merge"
_STR = "tag:yaml.org,2002:str"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_RESOLVER = yaml.resolver.Resolver()

# YAML 1.2 core schema as yaml.v3 resolves plain scalars (yaml.v3 resolve.go): null, bool, int with
# 0x/0o/0b prefixes (and yaml.v3's leading-0 octal), underscores dropped, floats, .inf/.nan.
_NULL_12 = frozenset({"", "~", "null", "Null", "NULL"})
_BOOL_12 = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT_12 = re.compile(r"^[-+]?(0b[01_]+|0o[0-7_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*)$")
_FLOAT_12 = re.compile(r"^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$")
_INF_NAN_12 = {".inf": float("inf"), ".Inf": float("inf"), ".INF": float("inf"),
               ".nan": float("nan"), ".NaN": float("nan"), ".NAN": float("nan")}


@dataclass
class Source:
    """A file's data with positions (1-based line and column)."""

    file: str
    data: object
    positions: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[Loc, tuple[int, int]] = field(default_factory=dict)

    def where(self, loc: Loc, *, key: bool = False) -> tuple[int, int]:
        """Position of ``loc`` (its key with ``key``), else of the closest enclosing node that has one."""
        probe = tuple(loc)
        if key and probe in self.key_positions:
            return self.key_positions[probe]
        while probe:
            if probe in self.positions:
                return self.positions[probe]
            probe = probe[:-1]
        return self.positions.get((), (1, 1))


class ReadError(Exception):
    """The file could not be read; ``diagnostic`` says where and why, ``io`` is True for I/O failures."""

    def __init__(self, diagnostic: Diagnostic, *, io: bool = False) -> None:
        super().__init__(diagnostic.format())
        self.diagnostic = diagnostic
        self.io = io


def read_text(path: str, display: str) -> str:
    """The file's text: UTF-8 without a byte-order mark, at most ``MAX_BYTES``."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ReadError(Diagnostic("OBS100", f"cannot read file: {exc.strerror or exc}", file=display),
                        io=True) from None
    if len(raw) > MAX_BYTES:
        raise ReadError(Diagnostic("OBS105", f"file is larger than {MAX_BYTES // (1024 * 1024)} MiB",
                                   file=display, line=1, column=1))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = len(raw[raw.rfind(b"\n", 0, exc.start) + 1: exc.start].decode("utf-8", "replace")) + 1
        raise ReadError(Diagnostic("OBS101", f"byte 0x{raw[exc.start]:02x} is not valid UTF-8", file=display,
                                   line=line, column=col)) from None


def _position(text: str, index: int) -> tuple[int, int]:
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


# --- YAML ----------------------------------------------------------------------------------------


def compose_yaml(text: str, display: str) -> yaml.Node | None:
    """The document's node tree (``None`` for an empty file); several documents are an error."""
    text = text.removeprefix("\ufeff")  # yaml.v3's reader skips a byte-order mark (yaml_parser_determine_encoding)
    bad = _FORBIDDEN_CHAR.search(text)
    if bad is not None:
        line, col = _position(text, bad.start())
        raise ReadError(Diagnostic("OBS102", f"character U+{ord(bad.group()):04X} is not allowed in YAML",
                                   file=display, line=line, column=col))
    try:
        loader = _Loader(text)
        try:
            return loader.get_single_node()  # type: ignore[no-any-return]
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or str(exc)
        if "expected a single document" in f"{exc.context} {problem}":
            raise ReadError(Diagnostic("OBS104", "the file holds more than one YAML document", file=display,
                                       line=line, column=col, hint="lint one document per file")) from None
        message = f"{exc.context + ': ' if exc.context else ''}{problem}"
        raise ReadError(Diagnostic("OBS102", message, file=display, line=line, column=col)) from None
    except RecursionError:
        raise ReadError(Diagnostic("OBS107", "nesting too deep to read", file=display, line=1, column=1)) from None
    except yaml.YAMLError as exc:
        raise ReadError(Diagnostic("OBS102", str(exc).splitlines()[0], file=display, line=1, column=1)) from None


def top_level_keys(node: yaml.Node | None) -> list[str]:
    """The keys of a top-level mapping node, as written (for telling the kind of a file)."""
    if not isinstance(node, yaml.MappingNode):
        return []
    return [str(k.value) for k, _ in node.value if isinstance(k, yaml.ScalarNode)]


class _YamlBuilder:
    def __init__(self, display: str, yaml12: bool) -> None:
        self.display = display
        self.yaml12 = yaml12
        self.source = Source(display, None)
        self.nodes = 0

    def fail(self, code: str, node: yaml.Node, message: str, hint: str = "") -> ReadError:
        line, col = _mark(node)
        return ReadError(Diagnostic(code, message, file=self.display, line=line, column=col, hint=hint))

    def build(self, node: yaml.Node, loc: Loc, depth: int) -> object:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail("OBS104", node, f"the file expands to more than {MAX_NODES} values",
                            "anchors and aliases that multiply each other are not accepted")
        if depth > MAX_DEPTH:
            raise self.fail("OBS107", node, f"nesting deeper than {MAX_DEPTH} levels")
        self.source.positions.setdefault(loc, _mark(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, loc, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*loc, i), depth + 1) for i, item in enumerate(node.value)]
        return self._scalar(node)

    def _scalar(self, node: yaml.Node) -> object:
        text = str(node.value)
        plain = node.style in (None, "")
        if node.tag == _STR and (not plain or node.tag != _implicit(text)):
            return text  # quoted, block or `!!str`: a string in every YAML version
        if plain and node.tag == _implicit(text):
            if self.yaml12 and node.tag != _TIMESTAMP:
                return resolve_12(text)
            if not self.yaml12 and node.tag == _TIMESTAMP:
                return text  # yaml.v2 gives a string to every field that is not a time.Time
            # yaml.v3 decodes an unquoted timestamp into a time.Time, which no string field takes
        try:
            return _CONSTRUCTOR.construct_object(node, deep=True)
        except (ValueError, KeyError, yaml.YAMLError) as exc:
            raise self.fail("OBS202", node, f"cannot read value: {exc}") from None

    def _mapping(self, node: yaml.MappingNode, loc: Loc, depth: int) -> dict[str, object]:
        out: dict[str, object] = {}
        merged: list[yaml.MappingNode] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merged += _merge_sources(value_node)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.fail("OBS202", key_node, "mapping keys must be scalars")
            key = str(key_node.value)
            child = (*loc, key)
            if key in out:
                first = self.source.key_positions[child]
                raise self.fail("OBS103", key_node, f"mapping key {key!r} already defined at line {first[0]}",
                                "remove one of them; the tool refuses a repeated key")
            self.source.key_positions[child] = _mark(key_node)
            out[key] = self.build(value_node, child, depth + 1)
        for source in merged:  # keys written in the mapping win over merged ones, the first merge wins
            for key_node, value_node in source.value:
                key = str(key_node.value)
                if key not in out:
                    self.source.key_positions[(*loc, key)] = _mark(key_node)
                    out[key] = self.build(value_node, (*loc, key), depth + 1)
        return out


def _merge_sources(node: yaml.Node) -> list[yaml.MappingNode]:
    if isinstance(node, yaml.MappingNode):
        return [node]
    if isinstance(node, yaml.SequenceNode):
        return [item for item in node.value if isinstance(item, yaml.MappingNode)]
    return []


def _implicit(text: str) -> str:
    """The tag YAML 1.1 (PyYAML, which composed the node) gives a plain scalar without a tag."""
    return str(_RESOLVER.resolve(yaml.ScalarNode, text, (True, False)))


def resolve_12(text: str) -> object:
    """A plain scalar's value under the YAML 1.2 core schema, as yaml.v3 resolves it."""
    if text in _NULL_12:
        return None
    if text in _BOOL_12:
        return _BOOL_12[text]
    if _INT_12.match(text) and not text.rstrip("_").endswith(("b", "o", "x")):
        digits = text.replace("_", "")
        sign = -1 if digits.startswith("-") else 1
        body = digits.lstrip("+-")
        try:
            if body[:2] in ("0b", "0o", "0x"):
                return sign * int(body[2:], {"0b": 2, "0o": 8, "0x": 16}[body[:2]])
            if len(body) > 1 and body.startswith("0") and set(body) <= set("01234567"):
                return sign * int(body, 8)  # yaml.v3 keeps YAML 1.1's leading-0 octal
            return sign * int(body, 10)
        except ValueError:
            return text
    if _FLOAT_12.match(text) and any(c.isdigit() for c in text):
        return float(text.replace("_", ""))
    sign = -1.0 if text.startswith("-") else 1.0
    special = _INF_NAN_12.get(text.lstrip("+-"))
    if special is not None:
        return sign * special
    return text


def build_yaml(node: yaml.Node | None, display: str, *, yaml12: bool) -> Source:
    """Construct a composed document, keeping positions; YAML 1.2 scalars when ``yaml12``."""
    if node is None:
        return Source(display, None, {(): (1, 1)})
    builder = _YamlBuilder(display, yaml12)
    try:
        builder.source.data = builder.build(node, (), 0)
    except RecursionError:
        raise builder.fail("OBS107", node, "nesting too deep to read") from None
    return builder.source


# --- JSON ----------------------------------------------------------------------------------------

_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


class _JsonReader:
    """Python's JSON decoder, one value at a time, so every key and value keeps its position."""

    def __init__(self, text: str, display: str) -> None:
        self.text = text
        self.source = Source(display, None)

    def fail(self, index: int, message: str) -> ReadError:
        line, col = _position(self.text, index)
        return ReadError(Diagnostic("OBS102", message, file=self.source.file, line=line, column=col))

    def skip(self, index: int) -> int:
        return _WS.match(self.text, index).end()  # type: ignore[union-attr]

    def value(self, index: int, loc: Loc, depth: int) -> tuple[object, int]:
        if depth > MAX_DEPTH:
            raise self.fail(index, f"nesting deeper than {MAX_DEPTH} levels")
        index = self.skip(index)
        self.source.positions[loc] = _position(self.text, index)
        char = self.text[index: index + 1]
        if char == "{":
            return self._object(index + 1, loc, depth)
        if char == "[":
            return self._array(index + 1, loc, depth)
        try:
            return _DECODER.raw_decode(self.text, index)
        except json.JSONDecodeError as exc:
            raise self.fail(exc.pos, exc.msg) from None

    def _object(self, index: int, loc: Loc, depth: int) -> tuple[object, int]:
        out: dict[str, object] = {}
        index = self.skip(index)
        if self.text.startswith("}", index):
            return out, index + 1
        while True:
            index = self.skip(index)
            if not self.text.startswith('"', index):
                raise self.fail(index, "expecting a property name in double quotes")
            start = index
            try:
                key, index = json.decoder.scanstring(self.text, index + 1)  # type: ignore[attr-defined]
            except json.JSONDecodeError as exc:
                raise self.fail(exc.pos, exc.msg) from None
            index = self.skip(index)
            if not self.text.startswith(":", index):
                raise self.fail(index, "expecting ':' after a property name")
            # encoding/json keeps the last of two equal keys; so does this reader, at the last position
            self.source.key_positions[(*loc, key)] = _position(self.text, start)
            out[key], index = self.value(index + 1, (*loc, key), depth + 1)
            index = self.skip(index)
            if self.text.startswith(",", index):
                index += 1
                continue
            if self.text.startswith("}", index):
                return out, index + 1
            raise self.fail(index, "expecting ',' or '}'")

    def _array(self, index: int, loc: Loc, depth: int) -> tuple[object, int]:
        out: list[object] = []
        index = self.skip(index)
        if self.text.startswith("]", index):
            return out, index + 1
        while True:
            item, index = self.value(index, (*loc, len(out)), depth + 1)
            out.append(item)
            index = self.skip(index)
            if self.text.startswith(",", index):
                index += 1
                continue
            if self.text.startswith("]", index):
                return out, index + 1
            raise self.fail(index, "expecting ',' or ']'")


def read_json(text: str, display: str) -> Source:
    """Parse a JSON document, keeping positions; trailing text is an error as in encoding/json."""
    reader = _JsonReader(text, display)
    if text.startswith("\ufeff"):
        raise reader.fail(0, "the file starts with a byte-order mark, which encoding/json refuses")
    try:
        reader.source.data, end = reader.value(0, (), 0)
    except RecursionError:
        raise reader.fail(0, "nesting too deep to read") from None
    end = reader.skip(end)
    if end != len(text):
        raise reader.fail(end, "extra data after the JSON document")
    return reader.source
