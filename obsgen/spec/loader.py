"""Read a spec file into plain data plus the line:column of every key and value.

PyYAML's ``safe_load`` loses positions and silently keeps the last of two duplicate keys, so the
spec is composed into nodes and built by hand: duplicate keys, explicit tags, oversize input,
alias bombs and runaway nesting all become diagnostics instead of surprises or tracebacks.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from obsgen.diagnostics import Diagnostic
from obsgen.spec.compose import MAX_DEPTH, MAX_NODES, ComposeError, Composer

MAX_SPEC_BYTES = 8 * 1024 * 1024
# MAX_NODES also bounds the values built, counting aliased nodes each time they are expanded.
# Values that aliases may add on top of the ones written out. Checked on the composed node graph
# before anything is built, so an alias bomb costs neither time nor memory.
MAX_ALIAS_EXPANSION = 10_000
MAX_INT_DIGITS = 64  # no spec number needs more; Python refuses > 4300 digits with a ValueError

# Characters YAML 1.1 does not allow in a stream (C0 controls except tab/LF/CR, DEL, C1 except NEL,
# surrogates, U+FFFE/U+FFFF). libyaml silently stops reading at a NUL, so they are found up front.
# PyYAML's reader refuses exactly this set (yaml/reader.py, Reader.NON_PRINTABLE); its compiled pattern is
# shared because compiling a class that spans U+10FFFF takes Python's re ~10-25 ms, on every run.
_FORBIDDEN_CHAR = yaml.reader.Reader.NON_PRINTABLE

Loc = tuple[str | int, ...]

_STR = "tag:yaml.org,2002:str"
_PLAIN_TAGS = {
    _STR,
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:map",
}
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_RESOLVER = yaml.resolver.Resolver()


@dataclass
class LoadedSpec:
    """A spec's data with positions: ``positions[loc]`` is (line, column) of the value at ``loc``."""

    file: str
    data: dict[str, object]
    positions: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[Loc, tuple[int, int]] = field(default_factory=dict)

    def where(self, loc: Loc, *, key: bool = False) -> tuple[int, int]:
        """Position of ``loc``, falling back to the closest enclosing node that has one."""
        table = self.key_positions if key else self.positions
        probe = tuple(loc)
        while probe:
            if probe in table:
                return table[probe]
            if probe in self.positions:
                return self.positions[probe]
            probe = probe[:-1]
        return self.positions.get((), (1, 1))


class LoadError(Exception):
    """The file could not be read as a spec; ``diagnostic`` says where and why."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.format())
        self.diagnostic = diagnostic


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.positions: dict[Loc, tuple[int, int]] = {}
        self.key_positions: dict[Loc, tuple[int, int]] = {}
        self.nodes = 0

    def fail(self, code: str, node: yaml.Node | None, message: str, hint: str = "", loc: Loc = ()) -> LoadError:
        line, col = _mark(node) if node is not None else (1, 1)
        return LoadError(
            Diagnostic(code, message, file=self.file, line=line, column=col, path=_dotted(loc), hint=hint)
        )

    def build(self, node: yaml.Node, loc: Loc, depth: int) -> object:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail(
                "OBS104", node, f"the spec expands to more than {MAX_NODES} values",
                "anchors and aliases that multiply each other ('billion laughs') are not accepted", loc,
            )
        if depth > MAX_DEPTH:
            raise self.fail("OBS107", node, f"nesting deeper than {MAX_DEPTH} levels", loc=loc)
        if node.tag not in _PLAIN_TAGS or node.tag != _implicit_tag(node):
            raise self.fail(
                "OBS104", node, f"YAML tag {node.tag!r} is not allowed in a spec",
                "write plain values; obsgen never constructs objects from tags", loc,
            )
        self.positions.setdefault(loc, _mark(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, loc, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*loc, i), depth + 1) for i, item in enumerate(node.value)]
        if node.tag == "tag:yaml.org,2002:timestamp":
            return str(node.value)  # dates are never meaningful in a spec; keep the text
        if node.tag == "tag:yaml.org,2002:int" and len(str(node.value).lstrip("+-0")) > MAX_INT_DIGITS:
            raise self.fail("OBS205", node, f"number with more than {MAX_INT_DIGITS} digits", loc=loc)
        try:
            return _CONSTRUCTOR.construct_object(node, deep=True)
        except (ValueError, KeyError, yaml.YAMLError) as exc:
            raise self.fail("OBS202", node, f"cannot read value: {exc}", loc=loc) from None

    def check_expansion(self, root: yaml.Node) -> None:
        """Refuse alias bombs and recursive aliases before building: sizes are computed once per node."""
        sizes: dict[int, int] = {}
        in_progress: set[int] = set()
        extra = 0

        def size(node: yaml.Node, loc: Loc, where: yaml.Node, depth: int) -> int:
            nonlocal extra
            ident = id(node)
            if ident in in_progress:
                raise self.fail("OBS104", where, "an alias refers to a node that contains it (a recursive alias)",
                                "a spec is a tree; copy the value instead", loc)
            if ident in sizes:
                extra += sizes[ident]
                if extra > MAX_ALIAS_EXPANSION:
                    raise self.fail(
                        "OBS104", where, f"aliases expand the spec by more than {MAX_ALIAS_EXPANSION} values",
                        "anchors and aliases that multiply each other ('billion laughs') are not accepted", loc,
                    )
                return sizes[ident]
            if depth > MAX_DEPTH:  # deeper than any spec may be; build() reports it with a position
                return 1
            in_progress.add(ident)
            total = 1
            if isinstance(node, yaml.MappingNode):
                for key_node, value_node in node.value:
                    key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
                    total += size(key_node, loc, key_node, depth + 1)
                    total += size(value_node, (*loc, key), key_node, depth + 1)
            elif isinstance(node, yaml.SequenceNode):
                for i, item in enumerate(node.value):
                    total += size(item, (*loc, i), where, depth + 1)
            in_progress.discard(ident)
            sizes[ident] = total
            return total

        size(root, (), root, 0)

    def _mapping(self, node: yaml.MappingNode, loc: Loc, depth: int) -> dict[str, object]:
        out: dict[str, object] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise self.fail("OBS104", key_node, "merge keys ('<<') are not supported", loc=loc)
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _PLAIN_TAGS:
                raise self.fail("OBS202", key_node, "mapping keys must be plain strings", loc=loc)
            key = str(key_node.value)
            child = (*loc, key)
            if key in out:
                first = self.key_positions[child]
                raise self.fail(
                    "OBS103", key_node, f"duplicate key {key!r} (first defined at line {first[0]})",
                    "YAML keeps only the last value of a repeated key; remove one of them", child,
                )
            self.key_positions[child] = _mark(key_node)
            out[key] = self.build(value_node, child, depth + 1)
        return out


def _implicit_tag(node: yaml.Node) -> str:
    """The tag a node gets without an explicit one; ``!!str`` on a scalar is the one harmless tag."""
    if isinstance(node, yaml.MappingNode):
        return "tag:yaml.org,2002:map"
    if isinstance(node, yaml.SequenceNode):
        return "tag:yaml.org,2002:seq"
    if node.tag == _STR or node.style not in (None, ""):
        return _STR
    return str(_RESOLVER.resolve(yaml.ScalarNode, node.value, (True, False)))


_PLAIN_PART = re.compile(r"^[A-Za-z0-9_./@-][A-Za-z0-9_./@ -]*$")


def _dotted(loc: Loc) -> str:
    """``a.b[0].c``; a key that is not plain text is quoted, so a path never holds a line break."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_PART.match(part) and not part.endswith(" "):
            out += ("." if out else "") + part
        else:
            out += f"[{json.dumps(part)}]"
    return out


def _position(text: str, index: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + 1, index - line_start + 1


def load_text(text: str, file: str) -> LoadedSpec:
    """Build a LoadedSpec from YAML text; raises LoadError with a positioned diagnostic."""
    builder = _Builder(file)
    bad = _FORBIDDEN_CHAR.search(text)
    if bad is not None:
        line, col = _position(text, bad.start())
        raise LoadError(Diagnostic(
            "OBS102", f"character U+{ord(bad.group()):04X} is not allowed in YAML", file=file, line=line,
            column=col, hint="remove it; inside double quotes write it as an escape such as \"\\x07\"",
        ))
    composer = Composer(text, file)
    try:
        root = composer.compose()
    except ComposeError as exc:
        raise LoadError(exc.diagnostic) from None
    except yaml.composer.ComposerError as exc:
        raise _yaml_error(exc, file, "OBS104", text) from None
    except yaml.MarkedYAMLError as exc:
        nested = "maximum nesting depth" in f"{exc.context} {exc.problem}"
        raise _yaml_error(exc, file, "OBS107" if nested else "OBS102", text) from None
    except RecursionError:
        raise LoadError(Diagnostic("OBS107", "nesting too deep to read", file=file, line=1, column=1)) from None
    except yaml.YAMLError as exc:  # e.g. ReaderError: no mark, but never a traceback
        raise LoadError(Diagnostic("OBS102", str(exc).splitlines()[0], file=file, line=1, column=1)) from None
    if root is None:
        raise LoadError(
            Diagnostic("OBS106", "the spec is empty", file=file, line=1, column=1,
                       hint="a minimal spec needs at least 'services:'")
        )
    if not isinstance(root, yaml.MappingNode):
        raise builder.fail("OBS106", root, "the spec must be a mapping of keys to values at the top level")
    if composer.aliased:  # a tree (no alias) repeats no node: nothing to expand, no cycle (~0.1 s at 1,000 services)
        builder.check_expansion(root)
    try:
        data = builder.build(root, (), 0)
    except RecursionError:
        raise builder.fail("OBS107", root, "nesting too deep to read") from None
    assert isinstance(data, dict)
    return LoadedSpec(file, data, builder.positions, builder.key_positions)


def _yaml_error(exc: yaml.MarkedYAMLError, file: str, code: str, text: str) -> LoadError:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = exc.problem or str(exc)
    hint = ""
    if mark is not None and 0 <= mark.index < len(text) and text[mark.index] == "\t":
        problem = "a tab character where YAML expects indentation or a value"
        hint = "YAML does not allow tabs for indentation; use spaces"
    if "expected a single document" in f"{exc.context} {problem}":
        exc.context = None
        problem = "the file holds more than one YAML document"
        hint = "a spec is one document; remove the '---' separators"
    message = f"{exc.context + ': ' if exc.context else ''}{problem}"
    return LoadError(Diagnostic(code, message, file=file, line=line, column=col, hint=hint))


def load_file(path: Path, display: str | None = None, data: bytes | None = None) -> LoadedSpec:
    """Read and parse ``path`` (or ``data``, its bytes read once by the caller); every failure is a
    LoadError with a diagnostic, never a traceback."""
    name = display if display is not None else str(path)
    try:
        if data is not None:
            raw = data
        else:
            with path.open("rb") as handle:
                raw = handle.read(MAX_SPEC_BYTES + 1)
    except OSError as exc:
        raise LoadError(Diagnostic("OBS100", f"cannot read spec: {exc.strerror or exc}", file=name)) from None
    if len(raw) > MAX_SPEC_BYTES:
        raise LoadError(
            Diagnostic("OBS105", f"spec is larger than {MAX_SPEC_BYTES // (1024 * 1024)} MiB", file=name,
                       line=1, column=1, hint="split the system into several specs")
        )
    if raw.startswith(b"\xef\xbb\xbf"):
        raise LoadError(
            Diagnostic("OBS101", "the file starts with a UTF-8 byte-order mark", file=name, line=1, column=1,
                       hint="save the spec as UTF-8 without BOM so every tool reads the same bytes")
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        col = len(raw[line_start: exc.start].decode("utf-8")) + 1  # characters, like every other column
        raise LoadError(
            Diagnostic("OBS101", f"byte 0x{raw[exc.start]:02x} is not valid UTF-8", file=name, line=line,
                       column=col, hint="specs are UTF-8 text")
        ) from None
    return load_text(text, name)
