"""aimodels: declarative infrastructure-as-code for Azure AI models.

Manifests describe model sources, custom weights and deployments; ``plan`` diffs them against live
Azure state and ``apply`` carries the plan out as a dependency graph with ETag preconditions.
Importing this package is cheap on purpose: the CLI must start fast.
"""

import sys

__version__ = "0.1.0"

# httpx imports its command-line tool when it is imported (``httpx._main``: rich.progress,
# rich.syntax, pygments), 15-20 ms of every command for a tool aimodels never runs. A None in
# sys.modules makes that import fail, and httpx then stands a stub in for its ``main``.
# typeshed types sys.modules' values as ModuleType, although None is the documented blocker.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
