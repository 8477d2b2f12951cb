"""Helpers shared by the transport tests (a unique module name: tests/ has no packages)."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx


@dataclass
class FakeTime:
    """A clock that only moves when the code under test sleeps; records every sleep."""

    now: float = 1_800_000_000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


SUB = "/subscriptions/s/resourceGroups/rg/providers"
CS_ACCOUNT = f"{SUB}/Microsoft.CognitiveServices/accounts/a"
AIM_DEPLOYMENT = (
    f"{SUB}/Microsoft.ContainerService/aiManagers/m/namespaces/prod/modelDeployments/chat"
)


def arm_error(status: int, code: str, message: str, **headers: str) -> httpx.Response:
    """An ARM error response with the standard envelope."""
    return httpx.Response(
        status, json={"error": {"code": code, "message": message}}, headers=headers
    )


class Script:
    """A MockTransport handler answering from a list, in order; records what it was sent.

    An exception in the list is raised instead of answering (a network failure).
    """

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    @property
    def paths(self) -> list[str]:
        return [f"{r.method} {r.url.path}" for r in self.requests]
