"""Mutating JSON documents for reader property tests: every place in a document, reading and
replacing the value at one, and a strategy of values of the same JSON type (which get past a
schema's type checks, so the checks behind it are exercised too)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

Path = tuple[Any, ...]


def paths(value: Any, prefix: Path = ()) -> list[Path]:
    """Every place in a JSON value: keys of objects and indexes of lists, depth first."""
    found = [prefix]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += paths(inner, (*prefix, index))
    return found


def get(document: Any, path: Path) -> Any:
    """The value at ``path``."""
    for step in path:
        document = document[step]
    return document


def put(document: Any, path: Path, value: Any) -> Any:
    """``document`` with the value at ``path`` replaced (the root when ``path`` is empty)."""
    if not path:
        return value
    get(document, path[:-1])[path[-1]] = value
    return document


def like(value: Any, strings: st.SearchStrategy[str],
         anything: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Values of the JSON type of ``value``: ``strings`` for a string, ``anything`` for a
    container's content and for null."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int | float):
        return st.one_of(st.integers(-5, 10**6), st.floats(-1e6, 1e6))
    if isinstance(value, str):
        return strings
    if isinstance(value, list):
        return st.lists(anything, max_size=3)
    if isinstance(value, dict):
        return st.dictionaries(st.text(max_size=8), anything, max_size=4)
    return anything


def mutated(data: st.DataObject, document: Any, values: st.SearchStrategy[Any],
            strings: st.SearchStrategy[str]) -> Any:
    """``document`` with one to three places given a value of their type or any value."""
    for _ in range(data.draw(st.integers(1, 3))):
        place = data.draw(st.sampled_from(paths(document)))
        value = data.draw(st.one_of(like(get(document, place), strings, values), values))
        document = put(document, place, value)
    return document


#: Any file content a reader may meet: raw bytes, and text encoded as UTF-8 with lone
#: surrogates kept (so some of it is not valid UTF-8).
file_contents = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")))
