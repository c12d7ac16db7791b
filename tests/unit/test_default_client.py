"""Which client a repository builds for itself: the lean transport's, or boto3's where needed."""

from __future__ import annotations

import pytest

from pydantic_dynamo.client import TRANSPORT_ENV, default_client
from pydantic_dynamo.fast_protocol import _FastSerializer
from pydantic_dynamo.transport import LeanClient


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("all_proxy", raising=False)
    monkeypatch.delenv("AWS_USE_DUALSTACK_ENDPOINT", raising=False)
    monkeypatch.delenv(TRANSPORT_ENV, raising=False)


def test_the_lean_transport_is_the_default() -> None:
    assert isinstance(default_client(region_name="us-east-1"), LeanClient)


def test_boto3_serves_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TRANSPORT_ENV, "boto3")
    client = default_client(region_name="us-east-1")
    assert isinstance(client._serializer, _FastSerializer)  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ["HTTPS_PROXY", "http_proxy", "AWS_USE_DUALSTACK_ENDPOINT"])
def test_boto3_serves_what_the_lean_transport_does_not(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv(name, "true" if name.startswith("AWS") else "http://proxy.invalid:3128")
    assert not isinstance(default_client(region_name="us-east-1"), LeanClient)


def test_an_unknown_transport_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TRANSPORT_ENV, "carrier-pigeon")
    with pytest.raises(ValueError, match=TRANSPORT_ENV):
        default_client(region_name="us-east-1")
