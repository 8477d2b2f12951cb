"""``arm.stored_page`` (reads one page of a stored collection from SQLite) answers exactly what
``arm.page`` answers over the whole collection read into memory: the same items, the same
``nextLink`` and ``$skipToken``, page after page, whatever the names, the page size and the
documents dropped on the way (finished deletes)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode, urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.requests import Request

from aimodels.emulator.containerservice import arm
from aimodels.emulator.store import Store

PREFIX = "sub/rg/manager/"
PATH = "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.ContainerService/aiManagers/" \
       "manager/modelSources"

names = st.text(alphabet="abcXYZ019-_é", min_size=1, max_size=6)


def request(query: dict[str, str]) -> Request:
    return Request({"type": "http", "method": "GET", "scheme": "http", "path": PATH,
                    "query_string": urlencode(query).encode(), "server": ("127.0.0.1", 80),
                    "headers": [(b"host", b"127.0.0.1:80")]})


def walk(answer: Any, top: int | None) -> list[dict[str, Any]]:
    """Every page, following nextLink from the first request."""
    query = {"api-version": arm.API_VERSION, **({"$top": str(top)} if top else {})}
    pages = []
    while True:
        body = json.loads(answer(request(query)).body)
        pages.append(body)
        if "nextLink" not in body:
            return pages
        query = dict(part.split("=", 1) for part in urlsplit(body["nextLink"]).query.split("&"))
        query = {k.replace("%24", "$"): v for k, v in query.items()}


@settings(max_examples=60, deadline=None)
@given(docs=st.dictionaries(names, st.booleans(), max_size=40),
       top=st.one_of(st.none(), st.integers(1, 7)))
def test_a_stored_page_is_the_page_of_the_whole_collection(docs: dict[str, bool],
                                                           top: int | None) -> None:
    store = Store()
    kept: list[dict[str, Any]] = []
    by_key: dict[str, dict[str, Any]] = {}
    for name, gone in docs.items():
        doc = {"name": name, "gone": gone}
        by_key[PREFIX + name.lower()] = doc  # ARM names are case-insensitive: last one wins
    for key, doc in by_key.items():
        store.put("sources", key, doc)
        if not doc["gone"]:
            kept.append(doc)
    store.put("sources", "sub/rg/other/zzz", {"name": "zzz", "gone": False})  # another parent

    def view(doc: dict[str, Any]) -> dict[str, Any]:
        return {"name": doc["name"], "seen": True}

    def whole(req: Request) -> Any:
        return arm.page(req, [view(d) for d in kept])

    def stored(req: Request) -> Any:
        return arm.stored_page(req, store, "sources", PREFIX, view,
                               keep=lambda doc: not doc["gone"])

    assert walk(stored, top) == walk(whole, top)
