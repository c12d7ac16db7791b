"""Which client a repository builds for itself: the lean transport's, or boto3's when asked."""

from __future__ import annotations

import pytest

from pydantic_dynamo.client_choice import TRANSPORT_ENV, default_client
from pydantic_dynamo.transport import LeanClient

_SETTINGS = (
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
    "AWS_USE_DUALSTACK_ENDPOINT",
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    TRANSPORT_ENV,
)


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")


def test_the_lean_transport_is_the_default() -> None:
    assert isinstance(default_client(region_name="us-east-1"), LeanClient)


def test_boto3_serves_when_asked_as_a_plain_client_with_standard_retries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from botocore.client import BaseClient

    monkeypatch.setenv(TRANSPORT_ENV, "boto3")
    client = default_client(region_name="us-east-1")
    assert isinstance(client, BaseClient)
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 6}  # type: ignore[attr-defined]
    # botocore's own serializer (validating parameters): nothing of botocore's is swapped.
    serializer = client._serializer  # type: ignore[attr-defined]
    assert type(serializer).__module__ == "botocore.validate"
    assert type(serializer._serializer).__module__ == "botocore.serialize"


@pytest.mark.parametrize(
    ("name", "value", "endpoint"),
    [
        ("HTTPS_PROXY", "http://proxy.invalid:3128", "https://dynamodb.us-east-1.amazonaws.com"),
        ("http_proxy", "http://proxy.invalid:3128", "https://dynamodb.us-east-1.amazonaws.com"),
        ("AWS_USE_DUALSTACK_ENDPOINT", "true", "https://dynamodb.us-east-1.api.aws"),
        ("AWS_USE_FIPS_ENDPOINT", "true", "https://dynamodb-fips.us-east-1.amazonaws.com"),
    ],
)
def test_the_lean_transport_serves_proxies_dualstack_and_fips(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, endpoint: str
) -> None:
    monkeypatch.setenv(name, value)
    client = default_client(region_name="us-east-1")
    assert isinstance(client, LeanClient)
    assert client.meta.endpoint_url == endpoint


def test_an_https_proxy_the_lean_transport_cannot_tunnel_through_gets_boto3(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "https://proxy.invalid:3129")
    assert not isinstance(default_client(region_name="us-east-1"), LeanClient)


def test_an_unknown_transport_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TRANSPORT_ENV, "carrier-pigeon")
    with pytest.raises(ValueError, match=TRANSPORT_ENV):
        default_client(region_name="us-east-1")
