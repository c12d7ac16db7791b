"""The seed README's example data, loaded through the API function when the stack starts.

The actors and reviews of pydantic-dynamo 0.4.2's README (``FilmActor``, ``ActorReview``),
with fixed ids so that the printed curl lines find them. The two reviews get distinct
``created`` times (the README's share one, so its second put overwrites the first).
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Final

from local_stack import config
from local_stack.apigateway import HttpRequest, build_proxy_event, parse_proxy_response
from local_stack.functions import InvocationError, LocalFunction

ACTOR_TYPE: Final = "actor"
REVIEW_TYPE: Final = "review"
ACTOR_ID: Final = "daniel-day-lewis"
ACTOR_NAME: Final = "Daniel Day-Lewis"

SAMPLE_CONTENTS: Final[dict[str, list[dict[str, Any]]]] = {
    ACTOR_TYPE: [
        {
            "partition_ids": [],
            "content_ids": [ACTOR_ID],
            "item": {"id": ACTOR_ID, "name": ACTOR_NAME, "review": None},
        },
        {
            "partition_ids": [],
            "content_ids": ["steve-buscemi"],
            "item": {"id": "steve-buscemi", "name": "Steve Buscemi", "review": None},
        },
    ],
    REVIEW_TYPE: [
        {
            "partition_ids": [ACTOR_ID],
            "content_ids": ["2023-02-10T20:15:00+00:00"],
            "item": {
                "id": "review-1",
                "actor_id": ACTOR_ID,
                "created": "2023-02-10T20:15:00+00:00",
                "review": "I really thought he was the hero of this movie",
            },
        },
        {
            "partition_ids": [ACTOR_ID],
            "content_ids": ["2023-03-05T18:30:00+00:00"],
            "item": {
                "id": "review-2",
                "actor_id": ACTOR_ID,
                "created": "2023-03-05T18:30:00+00:00",
                "review": "He really embodies the New York state of mind",
            },
        },
    ],
}


def load_samples(api: LocalFunction, host: str) -> list[str]:
    """POST each content type's samples to ``/records/{type}/batch``; return the problems.

    An empty list means everything was stored. Problems are reported, not raised: a stack
    whose seed failed is still worth starting, and the reason shows at once.
    """
    problems: list[str] = []
    for content_type, contents in SAMPLE_CONTENTS.items():
        request = HttpRequest(
            method="POST",
            target=f"/records/{content_type}/batch",
            headers=[("Host", host), ("Content-Type", "application/json")],
            body=json.dumps({"contents": contents}).encode(),
            client_ip=config.HOST,
        )
        event = build_proxy_event(request, stage=config.STAGE, request_id=str(uuid.uuid4()))
        try:
            response = parse_proxy_response(api.invoke(event).payload)
        except (InvocationError, ValueError) as exc:
            problems.append(f"{content_type}: {exc}")
            continue
        if not 200 <= response.status < 300:
            body = response.body.decode(errors="replace")[:500]
            problems.append(f"{content_type}: HTTP {response.status}: {body}")
    return problems
