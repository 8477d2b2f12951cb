"""Real Azure bodies (tests/fixtures/azure) and a loopback server that answers the CLI with them.

``ReplayAzure`` is not an emulator: it holds no rules of its own. It answers each Cognitive
Services request the CLI makes with a body taken from Microsoft's examples or the Azure CLI's
live recordings, in the shapes those show: lists without ``nextLink``, usages without ``status``,
a deployment PUT answered 201 with no LRO header and ``provisioningState: Accepted`` (the
2024-10-01 PutDeployment example), then ``Succeeded`` on the next GET, and a DELETE answered
200 at once (the recording). A query no fixture covers (another region's models, a model's
capacities) gets an empty list, which is also what Azure answers for a region without it.
Every request is logged, so tests can say which calls were made.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "azure"
RP = "/providers/Microsoft.CognitiveServices"


def example(path: str, status: str = "200") -> Any:
    """The response body of an azure-rest-api-specs example (``specs/2025-09-01/X.json``)."""
    doc = json.loads((FIXTURES / "specs" / path).read_text())
    return copy.deepcopy(doc["responses"][status].get("body"))


def recording(name: str) -> list[dict[str, Any]]:
    """The interactions of a recording (``recordings/<name>.json``)."""
    return json.loads((FIXTURES / "recordings" / f"{name}.json").read_text())["interactions"]


def recorded_body(name: str, index: int = 0) -> Any:
    """The response body of interaction ``index`` of a recording."""
    return copy.deepcopy(recording(name)[index]["response"]["body"])


def derived(name: str) -> Any:
    """A body of ``derived/`` (edited from a real one; sources.json says how)."""
    return json.loads((FIXTURES / "derived" / f"{name}.json").read_text())


@dataclass(frozen=True, slots=True)
class Logged:
    """One request the replay server answered."""

    method: str
    path: str
    query: dict[str, str]
    body: Any


@dataclass
class ReplayAzure:
    """What the server answers: accounts by ``{sub}/{rg}/{name}`` (lower-case), their
    deployments by name, location models and usages by region, modelCapacities items."""

    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    deployments: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    location_models: dict[str, list[Any]] = field(default_factory=dict)
    usages: dict[str, list[Any]] = field(default_factory=dict)
    capacities: list[dict[str, Any]] = field(default_factory=list)
    #: ETag headers to send for deployments (by name) whose body carries no etag.
    header_etags: dict[str, str] = field(default_factory=dict)
    log: list[Logged] = field(default_factory=list)
    url: str = ""

    def add_account(self, body: dict[str, Any], deployments: list[dict[str, Any]] = ()) -> str:
        """Serve ``body`` at its own id, with ``deployments`` (bodies) under it; the key."""
        parts = body["id"].split("/")
        key = f"{parts[2]}/{parts[4]}/{parts[8]}".lower()
        self.accounts[key] = body
        self.deployments[key] = {d["name"].lower(): d for d in deployments}
        return key

    def calls(self, method: str, pattern: str) -> list[Logged]:
        """The logged requests of ``method`` whose path matches ``pattern`` (a regex)."""
        return [r for r in self.log if r.method == method and re.search(pattern, r.path, re.I)]

    # --- answering -----------------------------------------------------------------------

    def answer(self, method: str, path: str, query: dict[str, str],
               body: Any) -> tuple[int, dict[str, str], Any]:
        self.log.append(Logged(method, path, query, body))
        for pattern, handler in _ROUTES:
            found = re.fullmatch(pattern, path, re.IGNORECASE)
            if found:
                return handler(self, method, found.groupdict(), query, body)
        return _error(404, "NotFound", f"The replay has no route for {method} {path}.")


def _account(replay: ReplayAzure, method: str, p: dict[str, str], query: dict[str, str],
             body: Any) -> tuple[int, dict[str, str], Any]:
    found = replay.accounts.get(f"{p['sub']}/{p['rg']}/{p['account']}".lower())
    if found is None or method != "GET":
        return _error(404, "ResourceNotFound", f"The Resource '{p['account']}' was not found.")
    return 200, _etag(found), found


def _accounts(replay: ReplayAzure, method: str, p: dict[str, str], query: dict[str, str],
              body: Any) -> tuple[int, dict[str, str], Any]:
    mine = [a for k, a in replay.accounts.items() if k.startswith(p["sub"].lower() + "/")]
    return 200, {}, {"value": mine}


def _deployment_list(replay: ReplayAzure, method: str, p: dict[str, str],
                     query: dict[str, str], body: Any) -> tuple[int, dict[str, str], Any]:
    key = f"{p['sub']}/{p['rg']}/{p['account']}".lower()
    if key not in replay.accounts:
        return _error(404, "ResourceNotFound", f"The Resource '{p['account']}' was not found.")
    return 200, {}, {"value": [_settled(d) for d in replay.deployments[key].values()]}


def _deployment(replay: ReplayAzure, method: str, p: dict[str, str], query: dict[str, str],
                body: Any) -> tuple[int, dict[str, str], Any]:
    key = f"{p['sub']}/{p['rg']}/{p['account']}".lower()
    if key not in replay.accounts:
        return _error(404, "ResourceNotFound", f"The Resource '{p['account']}' was not found.")
    mine = replay.deployments[key]
    name = p["name"].lower()
    if method == "DELETE":  # the recording: 200, empty body, no header, gone at once
        mine.pop(name, None)
        return 200, {}, None
    if method == "PUT":
        created = name not in mine
        mine[name] = _put_body(replay.accounts[key], p["name"], body)
        return (201 if created else 200), {}, copy.deepcopy(mine[name])
    if name not in mine:
        return _error(404, "NotFound", f"Deployment {p['name']} cannot be found.")
    done = mine[name] = _settled(mine[name])
    header = replay.header_etags.get(name)
    return 200, {"ETag": header} if header else _etag(done), done


def _put_body(account: dict[str, Any], name: str, body: Any) -> dict[str, Any]:
    """The 201 body of a deployment PUT: PutDeployment.json's shape for what was asked."""
    shape = example("2024-10-01/PutDeployment.json", "201")
    shape["id"] = f"{account['id']}/deployments/{name}"
    shape["name"] = name
    shape["sku"] = copy.deepcopy(body.get("sku"))
    shape["properties"] = {**copy.deepcopy(body.get("properties") or {}),
                           "provisioningState": shape["properties"]["provisioningState"]}
    shape["etag"] = '"00000000-0000-0000-0000-000000000001"'
    return shape


def _settled(doc: dict[str, Any]) -> dict[str, Any]:
    """A deployment as the next GET shows it: an Accepted or Creating one has succeeded."""
    props = doc.get("properties") or {}
    if props.get("provisioningState") in ("Accepted", "Creating"):
        doc = {**doc, "properties": {**props, "provisioningState": "Succeeded"}}
    return doc


def _models(replay: ReplayAzure, method: str, p: dict[str, str], query: dict[str, str],
            body: Any) -> tuple[int, dict[str, str], Any]:
    return 200, {}, {"value": replay.location_models.get(p["location"].lower(), [])}


def _usages(replay: ReplayAzure, method: str, p: dict[str, str], query: dict[str, str],
            body: Any) -> tuple[int, dict[str, str], Any]:
    return 200, {}, {"value": replay.usages.get(p["location"].lower(), [])}


def _capacities(replay: ReplayAzure, method: str, p: dict[str, str], query: dict[str, str],
                body: Any) -> tuple[int, dict[str, str], Any]:
    wanted = [query.get("modelFormat"), query.get("modelName"), query.get("modelVersion")]
    items = [i for i in replay.capacities
             if [i["properties"]["model"].get(k) for k in ("format", "name", "version")]
             == wanted and (not p.get("location") or
                            i["location"].replace(" ", "").lower() == p["location"].lower())]
    return 200, {}, {"value": items}


def _etag(body: dict[str, Any]) -> dict[str, str]:
    tag = body.get("etag") or body.get("eTag")
    return {"ETag": tag} if tag else {}


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, str], Any]:
    return status, {}, {"error": {"code": code, "message": message}}


_SUB = r"/subscriptions/(?P<sub>[^/]+)"
_ACCOUNT = _SUB + r"/resourceGroups/(?P<rg>[^/]+)" + RP + r"/accounts/(?P<account>[^/]+)"
_ROUTES = [
    (_ACCOUNT, _account),
    (_SUB + RP + "/accounts", _accounts),
    (_ACCOUNT + "/deployments", _deployment_list),
    (_ACCOUNT + r"/deployments/(?P<name>[^/]+)", _deployment),
    (_SUB + RP + r"/locations/(?P<location>[^/]+)/models", _models),
    (_SUB + RP + r"/locations/(?P<location>[^/]+)/usages", _usages),
    (_SUB + RP + r"/(?:locations/(?P<location>[^/]+)/)?modelCapacities", _capacities),
]


@contextmanager
def serve(replay: ReplayAzure) -> Iterator[ReplayAzure]:
    """Serve ``replay`` on 127.0.0.1 (a free port) until the block ends."""

    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            parts = urlsplit(self.path)
            size = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(size) if size else b""
            status, headers, body = replay.answer(
                self.command, parts.path, dict(parse_qsl(parts.query)),
                json.loads(raw) if raw else None)
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if data:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_PUT = do_DELETE = do_PATCH = do_POST = _reply

        def log_message(self, *args: Any) -> None:  # the log above is enough
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    replay.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield replay
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
