"""Fixture data the emulator serves: catalog, Foundry models, quota, prices, seeded resources.

The built-in data is every ``fixtures/*.json`` file of the package merged by top-level key (one
file per API family). ``--fixtures FILE`` (JSON or YAML) replaces whole top-level sections: a
user can swap the catalog without restating the quota. The format is ``fixtures/schema.yaml``
(JSON Schema); an override that does not follow it is refused before the emulator starts.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from aimodels.errors import UsageError

SCHEMA_FILE = "schema.yaml"


class FixtureError(UsageError):
    """A ``--fixtures`` file that cannot be used: unreadable, not JSON/YAML, or off the format.

    A usage error (exit 64): the flag's value is unusable, as with any other bad flag value.
    """


def load(override: Path | None = None) -> dict[str, Any]:
    """The built-in fixtures, with the sections of ``override`` replacing theirs."""
    data = builtin()
    if override is not None:
        data.update(read_override(override))
    return data


def builtin() -> dict[str, Any]:
    """Every built-in ``fixtures/*.json`` merged by top-level key."""
    data: dict[str, Any] = {}
    for entry in sorted(_folder().iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            data.update(json.loads(entry.read_text(encoding="utf-8")))
    return data


def read_override(path: Path) -> dict[str, Any]:
    """The sections of a user's fixtures file, checked against the schema."""
    loaded = _parse(path)
    if not isinstance(loaded, dict):
        raise FixtureError(f"{path}: fixtures must be a mapping of sections, got "
                           f"{type(loaded).__name__}", hint=_sections_hint())
    problem = best_match(validator().iter_errors(loaded))
    if problem is not None:
        raise FixtureError(f"{path}: {_describe(problem)}", hint=_sections_hint())
    return loaded


@cache
def _schema() -> dict[str, Any]:
    """The schema of fixtures files (``fixtures/schema.yaml``, ours: a mapping)."""
    schema: dict[str, Any] = yaml.safe_load((_folder() / SCHEMA_FILE).read_text(encoding="utf-8"))
    return schema


@cache
def validator() -> Draft202012Validator:
    """The validator for fixtures files (``fixtures/schema.yaml``)."""
    return Draft202012Validator(_schema())


def section_names() -> list[str]:
    """The sections a fixtures file may hold."""
    return sorted(_schema()["properties"])


def _folder() -> Any:
    return resources.files("aimodels.emulator") / "fixtures"


def _parse(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FixtureError(f"{path}: cannot read the fixtures file: {exc}") from None
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            return yaml.safe_load(text)
        return json.loads(text)
    except yaml.YAMLError as exc:
        raise FixtureError(f"{path}: not valid YAML: {_one_line(exc)}") from None
    except ValueError as exc:
        raise FixtureError(f"{path}: not valid JSON: {exc}",
                           hint="Name the file *.yaml or *.yml to write it in YAML.") from None


def _describe(problem: ValidationError) -> str:
    where = _path_of(problem)
    message = problem.message
    if problem.validator == "additionalProperties" and isinstance(problem.instance, dict) \
            and isinstance(problem.schema, Mapping):
        message = _unknown_keys(problem.instance, problem.schema, "section" if not where
                                else "field")
    return f"{where}: {message}" if where else message


def _unknown_keys(instance: dict[str, Any], schema: Mapping[str, Any], what: str) -> str:
    """``unknown section 'x' (did you mean 'y'?)``: the words a typo deserves."""
    known = list(schema.get("properties", {}))
    unknown = [k for k in instance if k not in known and not str(k).startswith("_")]
    parts = []
    for key in unknown:
        close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
        parts.append(f"'{key}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
    return f"unknown {what}{'s' if len(parts) > 1 else ''} " + ", ".join(parts)


def _path_of(problem: ValidationError) -> str:
    """``containerService.catalog[0].modelId``: where in the file the problem is."""
    out = ""
    for part in problem.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _one_line(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}" if mark else str(problem)


def _sections_hint() -> str:
    return ("Known sections: " + ", ".join(section_names()) + ". Each replaces the built-in "
            "section whole; see docs/emulator.md, 'Fixtures'.")
