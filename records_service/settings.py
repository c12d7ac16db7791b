"""The functions' configuration, read from environment variables and checked once at start.

The variable names come from ``records_service.names`` (the CDK app sets them from the same
constants). A missing or malformed value raises ``ConfigurationError`` naming every problem at
once, so a misconfigured function fails its first cold start with a readable message instead of
a ``KeyError`` deep in a request.

>>> Settings.from_env({"RECORDS_TABLE_NAME": "records"}).table_name
'records'
>>> Settings.from_env({})
Traceback (most recent call last):
...
records_service.settings.ConfigurationError: invalid configuration: RECORDS_TABLE_NAME is not set
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from records_service import names

__all__ = ["ConfigurationError", "Settings"]

# DynamoDB table names and EventBridge bus names (a bus may also be given by ARN).
_TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_BUS_NAME = re.compile(
    r"^(arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus/)?[A-Za-z0-9/_.-]{1,256}$"
)
_ENDPOINT = re.compile(r"^https?://[^\s/]+(/\S*)?$")


class ConfigurationError(RuntimeError):
    """The environment does not configure the function correctly; ``problems`` lists why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid configuration: " + "; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Settings:
    """What a handler needs to know about its environment.

    ``dynamodb_endpoint``/``events_endpoint`` override the AWS endpoints (the local stack and
    tests point them at moto or DynamoDB Local); in AWS they are unset.
    """

    table_name: str
    event_bus_name: str | None = None
    dynamodb_endpoint: str | None = None
    events_endpoint: str | None = None

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, require_event_bus: bool = False
    ) -> Settings:
        """Read and validate the settings from ``environ`` (``os.environ`` by default).

        ``require_event_bus`` is set by functions that publish (the write-once deduper).
        """
        env = os.environ if environ is None else environ
        problems: list[str] = []

        def read(name: str, pattern: re.Pattern[str], required: bool) -> str | None:
            value = env.get(name, "").strip()
            if not value:
                if required:
                    problems.append(f"{name} is not set")
                return None
            if not pattern.match(value):
                problems.append(f"{name}={value!r} is malformed (expected {pattern.pattern})")
                return None
            return value

        table_name = read(names.ENV_TABLE_NAME, _TABLE_NAME, required=True)
        bus_name = read(names.ENV_EVENT_BUS_NAME, _BUS_NAME, required=require_event_bus)
        dynamodb_endpoint = read(names.ENV_DYNAMODB_ENDPOINT, _ENDPOINT, required=False)
        events_endpoint = read(names.ENV_EVENTS_ENDPOINT, _ENDPOINT, required=False)
        if problems or table_name is None:
            raise ConfigurationError(problems)
        return cls(
            table_name=table_name,
            event_bus_name=bus_name,
            dynamodb_endpoint=dynamodb_endpoint,
            events_endpoint=events_endpoint,
        )
