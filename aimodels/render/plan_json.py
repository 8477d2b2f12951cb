"""``aimodels plan --format json``: the versioned plan document, for machines.

The document is ``Plan.to_dict()`` (see ``schemas/plan.schema.json``), with secrets masked once
more (``plan_view.masked_plan``). Keys are sorted, so equal plans give byte-identical documents.
Like every renderer, it returns no trailing newline: the caller's ``click.echo`` adds it.
"""

from __future__ import annotations

import json

from aimodels.plan.values import Plan
from aimodels.render.plan_view import masked_plan


def render_json(plan: Plan) -> str:
    """The plan as its JSON document, indented, keys sorted; NaN or infinity is a bug and raises."""
    document = masked_plan(plan).to_dict()
    return json.dumps(document, sort_keys=True, indent=2, allow_nan=False)
