"""Manifest files as YAML documents that remember where every field stands.

We compose each document with yaml's safe loader (libyaml when available), then one walk over the
node tree maps every field path to its ``file:line:col`` and builds the Python values (PyYAML's
generic constructor does the rare documents with other tags: dates, merge keys, sets...). Reading is
defensive: a file over 10 MiB, binary or non-UTF-8 input, a document that expands past a node
budget through aliases (a "billion laughs" file) or nests too deep is refused with one clear
diagnostic, before any of it is expanded.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import yaml

from aimodels.errors import Diagnostic, SourceLocation, error
from aimodels.manifest.discover import ManifestInput

MAX_FILE_BYTES = 10 * 1024 * 1024
#: Nodes one document may expand to, aliases counted at their full size each time they are used.
MAX_NODES = 100_000
MAX_DEPTH = 64

FieldPath = tuple[str | int, ...]
_MERGE_TAG = "tag:yaml.org,2002:merge"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_WIDE_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class Spot(NamedTuple):
    """Where one field stands: its value and its key (absent for list items and the root).

    Kept as numbers, one tuple per YAML node (a document has hundreds); ``value`` and ``key``
    make the locations when asked. ``raw`` is a scalar's text as written (``2024-11-20``, not
    a date), for messages.
    """

    file: str
    line: int
    column: int
    key_line: int = 0  # 0: no key
    key_column: int = 0
    raw: str | None = None

    @property
    def value(self) -> SourceLocation:
        return SourceLocation(self.file, self.line, self.column)

    @property
    def key(self) -> SourceLocation | None:
        if not self.key_line:
            return None
        return SourceLocation(self.file, self.key_line, self.key_column)


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """One YAML document of a manifest file: its data and a map from field paths to spots.

    ``problems`` are errors found while reading that leave the data usable (duplicate keys);
    they count only if the document turns out to be a manifest.
    """

    input: ManifestInput
    index: int
    data: Any
    spots: Mapping[FieldPath, Spot] = field(default_factory=dict)
    problems: tuple[Diagnostic, ...] = ()

    @property
    def file(self) -> str:
        return self.input.display

    @property
    def start(self) -> SourceLocation:
        """Where the document begins (its first key)."""
        return self.at(())

    def spot(self, path: Sequence[str | int]) -> Spot | None:
        """The spot of exactly this path, if the document has it."""
        return self.spots.get(_normalize(path))

    def at(self, path: Sequence[str | int], *, key: bool = False) -> SourceLocation:
        """The location of ``path`` (its key with ``key=True``), else of its nearest ancestor."""
        norm = _normalize(path)
        for cut in range(len(norm), -1, -1):
            found = self.spots.get(norm[:cut])
            if found is not None:
                return (found.key or found.value) if key and cut == len(norm) else found.value
        return SourceLocation(self.file, 1, 1)


def read_documents(item: ManifestInput) -> tuple[list[YamlDocument], list[Diagnostic]]:
    """Every document of one file, or the one diagnostic that says why the file is unreadable.

    Empty documents (``---`` alone, comments only) are skipped without a word.
    """
    text = _read_text(item)
    if isinstance(text, Diagnostic):
        return [], [text]
    loader = _Loader(text)
    docs: list[YamlDocument] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:  # not after check_node() said yes; the stubs cannot know that
                break
            _check_size(node, item)
            walk = _Walk(item, loader)
            data = walk.node(node, ())
            if not walk.built:
                data = loader.construct_document(node)
            if data is not None:
                docs.append(YamlDocument(item, len(docs), data, walk.spots,
                                         tuple(walk.problems)))
    except _Refused as refused:
        return [], [refused.diagnostic]
    except yaml.reader.ReaderError:
        return [], [_forbidden_character(item, text)]
    except yaml.YAMLError as exc:
        return [], [_syntax_error(exc, item, text)]
    except ValueError as exc:  # PyYAML's own construction (tags, merge keys): a huge number
        return [], [error(f"a value cannot be read: {exc}",
                          source=SourceLocation(item.display, 1, 1))]
    except RecursionError:
        return [], [error("YAML nests too deep", source=SourceLocation(item.display, 1, 1))]
    finally:
        loader.dispose()
    return docs, []


def _number_too_long(node: yaml.Node, display: str, path: FieldPath) -> Diagnostic:
    mark = node.start_mark
    return error(f"a number {len(node.value):,} characters long",
                 "No field takes a number of that size: write the value the field needs, or "
                 "quote it if it is meant as text.",
                 source=SourceLocation(display, mark.line + 1, mark.column + 1),
                 path=format_path(path))


class _Refused(Exception):
    """A document refused for its shape (too big, too deep); carries the diagnostic."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.summary)
        self.diagnostic = diagnostic


def _read_text(item: ManifestInput) -> str | Diagnostic:
    where = SourceLocation(item.display, 1, 1)
    try:
        size = item.path.stat().st_size
        if size > MAX_FILE_BYTES:
            return error(f"file is too large ({size / 2**20:.1f} MiB)",
                         "Manifests are limited to 10 MiB. Is this a data file rather than a "
                         "manifest? Move it out of the scanned folder.", source=where)
        data = item.path.read_bytes()
    except OSError as exc:
        return error(f"cannot read the file: {exc.strerror or exc}", source=where)
    return _decode(data, item)


def _decode(data: bytes, item: ManifestInput) -> str | Diagnostic:
    if data.startswith(_WIDE_BOMS):
        return error("file is UTF-16 or UTF-32 encoded", "Save it as UTF-8.",
                     source=SourceLocation(item.display, 1, 1))
    nul = data.find(b"\0")
    if nul >= 0:
        return error("binary file (it contains NUL bytes)",
                     "Manifests are UTF-8 text. If this is model weights, point a CustomModel's "
                     "spec.path at it instead of passing it with -f.",
                     source=_byte_location(data, nul, item))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return error("file is not valid UTF-8",
                     f"Byte 0x{data[exc.start]:02x} cannot start a UTF-8 character. Save the "
                     "file as UTF-8.", source=_byte_location(data, exc.start, item))


def _byte_location(data: bytes, offset: int, item: ManifestInput) -> SourceLocation:
    line_start = data.rfind(b"\n", 0, offset) + 1
    return SourceLocation(item.display, data.count(b"\n", 0, offset) + 1, offset - line_start + 1)


def _check_size(root: yaml.Node, item: ManifestInput) -> None:
    """Refuse a document that aliases expand past MAX_NODES, or that nests past MAX_DEPTH.

    Composing keeps one node per anchor, so this walk is linear in the text; the expansion is
    counted, not performed.
    """
    sizes: dict[int, int] = {}

    def size(node: yaml.Node, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise _Refused(error(f"YAML nests deeper than {MAX_DEPTH} levels",
                                 "Manifests are shallow; this looks generated or broken.",
                                 source=_location(node.start_mark, item)))
        if type(node) is yaml.ScalarNode:
            return 1  # most nodes: no children to count, nothing to remember
        if id(node) in sizes:
            return sizes[id(node)]
        total = 1
        for child in _children(node):
            total += size(child, depth + 1)
            if total > MAX_NODES:
                raise _Refused(_too_many_nodes(node, item))
        sizes[id(node)] = total
        return total

    size(root, 0)


def _too_many_nodes(node: yaml.Node, item: ManifestInput) -> Diagnostic:
    return error(
        f"document expands to more than {MAX_NODES} YAML nodes",
        "Aliases (*name) that repeat large anchors multiply the document (a 'billion laughs' "
        "file). Manifests need only a few hundred nodes: write the values out or use fewer "
        "nested aliases.",
        source=_location(node.start_mark, item),
    )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


_TAG = "tag:yaml.org,2002:"
_STR, _MAP, _SEQ = f"{_TAG}str", f"{_TAG}map", f"{_TAG}seq"
#: Scalar tags whose values the walk builds itself, with SafeConstructor's own functions.
_PLAIN_SCALARS = frozenset(f"{_TAG}{name}" for name in ("null", "bool", "int", "float", "str"))


class _Walk:
    """One walk over a composed document: the spot of every field path, the duplicate keys,
    and the document's value, exactly as SafeConstructor builds it for plain maps, lists and
    scalars (YAML 1.1 resolution was done by the composer; an alias gives the same object).

    Any other node (a date, ``<<`` merge, ``!!set``, a custom tag, a complex key) clears
    ``built``: the caller then lets PyYAML's constructor build the whole document, with its
    own values and errors. Children are walked last to first, which keeps the order (and,
    for a duplicated key, the first spot) of the stack-based walk this replaces.
    """

    __slots__ = ("built", "display", "loader", "memo", "problems", "spots")

    def __init__(self, item: ManifestInput, loader: Any) -> None:
        self.display = item.display
        self.loader = loader
        self.built = True
        self.memo: dict[int, Any] = {}
        self.spots: dict[FieldPath, Spot] = {}
        self.problems: list[Diagnostic] = []

    def node(self, node: yaml.Node, path: FieldPath, key_line: int = 0,
             key_column: int = 0) -> Any:
        """Record the spots of ``node`` (whose key, if any, is at ``key_line``:``key_column``)
        and everything under it; its value (None when it is not ``built``)."""
        mark = node.start_mark
        if type(node) is yaml.ScalarNode:
            self.spots[path] = Spot(self.display, mark.line + 1, mark.column + 1, key_line,
                                    key_column, node.value)
            return self._scalar(node, path)
        self.spots[path] = Spot(self.display, mark.line + 1, mark.column + 1, key_line,
                                key_column)
        if type(node) is yaml.SequenceNode:
            items = [self.node(child, (*path, i))
                     for i, child in reversed(list(enumerate(node.value)))]
            items.reverse()
            return self._shared(node, items, node.tag == _SEQ)
        if type(node) is yaml.MappingNode:
            return self._mapping(node, path)
        self.built = False  # unreachable: the composer makes only these three
        return None

    def _scalar(self, node: yaml.ScalarNode, path: FieldPath) -> Any:
        tag = node.tag
        if tag == _STR:
            return node.value
        if tag in _PLAIN_SCALARS:
            try:
                return self.loader.yaml_constructors[tag](self.loader, node)
            except ValueError:  # an integer longer than Python converts (4,300 digits)
                raise _Refused(_number_too_long(node, self.display, path)) from None
        self.built = False
        return None

    def _shared(self, node: yaml.Node, value: Any, plain: bool) -> Any:
        """The value of a collection node: the first one built for it (aliases share it)."""
        if not plain:
            self.built = False
        return self.memo.setdefault(id(node), value)

    def _mapping(self, node: yaml.MappingNode, path: FieldPath) -> Any:
        seen: dict[str, int] = {}  # line of each key
        children: list[tuple[yaml.Node, FieldPath, int, int]] = []
        plain = node.tag == _MAP
        for key_node, value_node in node.value:
            if type(key_node) is not yaml.ScalarNode or key_node.tag == _MERGE_TAG:
                plain = False  # merged keys point at their anchor through the ancestor fallback
                continue
            name, mark = key_node.value, key_node.start_mark
            if name in seen:
                where = SourceLocation(self.display, mark.line + 1, mark.column + 1)
                self.problems.append(_duplicate_key(name, path, where, seen[name]))
            seen[name] = mark.line + 1
            children.append((value_node, (*path, name), mark.line + 1, mark.column + 1))
        values = [self.node(*child) for child in reversed(children)]
        if not plain:
            return self._shared(node, None, False)
        mapping: dict[Any, Any] = {}
        for (key_node, _), value in zip(node.value, reversed(values), strict=True):
            mapping[self._scalar(key_node, (*path, key_node.value))] = value
        return self._shared(node, mapping, True)


def _duplicate_key(name: str, path: FieldPath, loc: SourceLocation,
                   first_line: int) -> Diagnostic:
    return error(
        f"duplicate key '{name}'",
        f"'{name}' is already set at line {first_line}. YAML keeps only the last one, so the "
        "other is silently lost: delete one of them.",
        source=loc, path=format_path((*path, name)),
    )


def _syntax_error(exc: yaml.YAMLError, item: ManifestInput, text: str) -> Diagnostic:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = _location(mark, item) if mark else SourceLocation(item.display, 1, 1)
    problem = getattr(exc, "problem", None) or "cannot be parsed"
    details = [_context_sentence(exc)]
    details += [hint for words, hint in _SYNTAX_HINTS if words in problem]
    if mark is not None and _char_at(text, mark) == "\t":
        problem = "tab character"
        details = ["YAML indents with spaces only: replace tabs with spaces."]
    return error(f"invalid YAML: {problem}", "\n".join(d for d in details if d), source=where)


#: What YAML 1.1 allows in a stream (PyYAML's reader): tab, newlines and printable characters.
_FORBIDDEN = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd"
                        "\U00010000-\U0010ffff]")
_CONTROL_NAMES = {0x08: "BACKSPACE", 0x0B: "VERTICAL TAB", 0x0C: "FORM FEED", 0x1B: "ESC",
                  0x7F: "DELETE"}


def _forbidden_character(item: ManifestInput, text: str) -> Diagnostic:
    """The reader refused a character: say which, and where (PyYAML's C reader gives no
    position, so we find the first one ourselves)."""
    found = _FORBIDDEN.search(text)
    if found is None:  # unreachable while our set matches the reader's; stay precise anyway
        return error("invalid YAML: a character YAML does not allow",
                     source=SourceLocation(item.display, 1, 1))
    offset, char = found.start(), found.group()
    line_start = text.rfind("\n", 0, offset) + 1
    where = SourceLocation(item.display, text.count("\n", 0, offset) + 1, offset - line_start + 1)
    code = ord(char)
    name = f" ({_CONTROL_NAMES[code]})" if code in _CONTROL_NAMES else ""
    what = "control character" if code < 0x20 or 0x7F <= code < 0xA0 else "character"
    return error(f"{what} U+{code:04X}{name} at {where.line}:{where.column} is not allowed in YAML",
                 "YAML text allows tabs, line breaks and printable characters only. Delete it "
                 "(many editors do not show it), or write it as an escape inside a "
                 f'double-quoted string: "\\u{code:04x}".', source=where)


_SYNTAX_HINTS = (
    ("did not find expected key", "Check this line's indentation against the lines above."),
    ("mapping values are not allowed", "A plain value cannot contain ': '; quote the value."),
    ("cannot start any token", "Quote values that start with characters such as @ or `."),
    ("undefined alias", "An alias (*name) needs an anchor (&name) earlier in the same document."),
)


def _context_sentence(exc: yaml.YAMLError) -> str:
    context, mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if not context:
        return ""
    if context.startswith("while ") and mark is not None:
        what = context.removeprefix("while ")
        return f"The parser was {what} that starts at line {mark.line + 1}."
    return f"{context[0].upper()}{context[1:]}."


def _char_at(text: str, mark: Any) -> str:
    lines = text.splitlines()
    line: int = mark.line
    column: int = mark.column
    if line < len(lines) and column < len(lines[line]):
        return lines[line][column]
    return ""


def _location(mark: Any, item: ManifestInput) -> SourceLocation:
    return SourceLocation(item.display, mark.line + 1, mark.column + 1)


def _normalize(path: Sequence[str | int]) -> FieldPath:
    return tuple(p if isinstance(p, int) and not isinstance(p, bool) else str(p) for p in path)


def format_path(path: Sequence[str | int]) -> str:
    """A field path as people write it: ``spec.scale.replicas``, ``spec.items[0]``,
    ``metadata.labels["app.kubernetes.io/name"]``."""
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        elif str(part).replace("_", "a").isalnum():
            out += f".{part}" if out else str(part)
        else:
            out += f'["{part}"]'
    return out
