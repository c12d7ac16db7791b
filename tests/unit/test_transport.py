"""The lean transport's pure parts: signing equals botocore's, endpoints, errors, retries, hooks."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from typing import Any
from unittest import mock

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials
from botocore.exceptions import ClientError, NoRegionError
from hypothesis import given, settings
from hypothesis import strategies as st

from pydantic_dynamo.transport import LeanClient, TransportRetries
from pydantic_dynamo.transport.endpoints import resolve_endpoint, resolve_region
from pydantic_dynamo.transport.errors import error_fields
from pydantic_dynamo.transport.signing import Signer
from pydantic_dynamo.transport.wire import decode_body, encode_body

WHEN = datetime.datetime(2026, 11, 26, 21, 0, 0)
URL = "https://dynamodb.eu-west-1.amazonaws.com"
BODY = b'{"TableName":"films","Key":{"PK":{"S":"a"}}}'


def _headers() -> dict[str, str]:
    return {
        "Host": "dynamodb.eu-west-1.amazonaws.com",
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "DynamoDB_20120810.GetItem",
        "User-Agent": "anything: user agents are not signed",
    }


@pytest.mark.parametrize("token", [None, "a-session-token"])
def test_signed_headers_equal_botocores_own_signer(
    token: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda: WHEN)
    theirs = AWSRequest(method="POST", url=URL + "/", data=BODY, headers=_headers())
    SigV4Auth(credentials, "dynamodb", "eu-west-1").add_auth(theirs)

    ours = Signer("eu-west-1").sign(
        credentials.get_frozen_credentials(), URL, BODY, _headers(), when=WHEN
    )
    assert ours == dict(theirs.headers.items())
    assert ours["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261126/")


_HEADER_TEXT = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=30
).filter(lambda text: text.strip() != "")


@settings(max_examples=300, deadline=None)
@given(
    region=st.sampled_from(["us-east-1", "eu-west-3", "ap-southeast-2", "local"]),
    access_key=st.text(st.characters(min_codepoint=0x30, max_codepoint=0x5A), min_size=1),
    secret=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1),
    token=st.none() | st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1),
    url=st.sampled_from(
        [
            "https://dynamodb.eu-west-1.amazonaws.com",
            "https://dynamodb.eu-west-1.amazonaws.com:443",
            "http://127.0.0.1:8000",
            "http://localhost:80",
            "http://[::1]:8000",
            "https://user@DynamoDB.Example.COM:8443",
        ]
    ),
    with_host=st.booleans(),
    body=st.binary(max_size=300),
    extra=st.dictionaries(
        st.sampled_from(
            [
                "X-Amz-Target",
                "x-amzn-trace-id",
                "X-Custom",
                "Expect",
                "user-agent",
                # Headers the signature replaces, in other spellings.
                "authorization",
                "x-amz-date",
                "X-AMZ-SECURITY-TOKEN",
            ]
        ),
        _HEADER_TEXT,
    ),
    when=st.datetimes(
        min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2099, 12, 31)
    ),
)
def test_signing_equals_botocores_for_any_request(
    region: str,
    access_key: str,
    secret: str,
    token: str | None,
    url: str,
    with_host: bool,
    body: bytes,
    extra: dict[str, str],
    when: datetime.datetime,
) -> None:
    when = when.replace(microsecond=0)
    headers = {"Content-Type": "application/x-amz-json-1.0", **extra}
    if with_host:
        headers["Host"] = "dynamodb.example.com"
    credentials = Credentials(access_key, secret, token)
    theirs = AWSRequest(method="POST", url=url + "/", data=body, headers=dict(headers))
    with mock.patch("botocore.auth.get_current_datetime", return_value=when):
        SigV4Auth(credentials, "dynamodb", region).add_auth(theirs)

    signer = Signer(region)
    ours = signer.sign(credentials.get_frozen_credentials(), url, body, dict(headers), when=when)
    assert ours == dict(theirs.headers.items())
    # The cached signing key and date serve a second, different request just as well.
    again = signer.sign(credentials.get_frozen_credentials(), url, b"x", dict(headers), when=when)
    theirs = AWSRequest(method="POST", url=url + "/", data=b"x", headers=dict(headers))
    with mock.patch("botocore.auth.get_current_datetime", return_value=when):
        SigV4Auth(credentials, "dynamodb", region).add_auth(theirs)
    assert again == dict(theirs.headers.items())


def test_the_signing_key_follows_the_day_and_the_secret() -> None:
    signer = Signer("us-east-1")
    day_one = datetime.datetime(2026, 11, 26, 23, 59, 59)
    day_two = datetime.datetime(2026, 11, 27, 0, 0, 0)
    for secret, when in [("A", day_one), ("A", day_two), ("B", day_two), ("A", day_two)]:
        credentials = Credentials("AKID", secret)
        theirs = AWSRequest(method="POST", url=URL + "/", data=BODY, headers=_headers())
        with mock.patch("botocore.auth.get_current_datetime", return_value=when):
            SigV4Auth(credentials, "dynamodb", "us-east-1").add_auth(theirs)
        ours = signer.sign(credentials.get_frozen_credentials(), URL, BODY, _headers(), when=when)
        assert ours == dict(theirs.headers.items())


def test_signing_without_credentials_is_botocores_no_credentials_error() -> None:
    from botocore.exceptions import NoCredentialsError

    with pytest.raises(NoCredentialsError):
        Signer("us-east-1").sign(None, URL, BODY, _headers())


def test_a_skewed_clock_signs_with_the_corrected_time() -> None:
    signer = Signer("us-east-1")
    signer.skew = 3600.0
    headers = signer.sign(Credentials("A", "B").get_frozen_credentials(), URL, BODY, {})
    signed = datetime.datetime.strptime(headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    assert datetime.timedelta(minutes=59) < signed - now < datetime.timedelta(minutes=61)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "https://dynamodb.us-east-1.amazonaws.com"),
        ({"AWS_ENDPOINT_URL": "http://localhost:4566/"}, "http://localhost:4566"),
        (
            {"AWS_ENDPOINT_URL": "http://a:1", "AWS_ENDPOINT_URL_DYNAMODB": "http://b:2"},
            "http://b:2",
        ),
        (
            {"AWS_ENDPOINT_URL": "http://a:1", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"},
            "https://dynamodb.us-east-1.amazonaws.com",
        ),
        ({"AWS_USE_FIPS_ENDPOINT": "true"}, "https://dynamodb-fips.us-east-1.amazonaws.com"),
    ],
)
def test_endpoints_resolve_as_boto3s(environ: dict[str, str], expected: str) -> None:
    environ = {"AWS_CONFIG_FILE": "/nonexistent", **environ}
    assert resolve_endpoint("us-east-1", None, environ) == expected


def test_an_explicit_endpoint_wins() -> None:
    environ = {"AWS_ENDPOINT_URL_DYNAMODB": "http://b:2"}
    assert (
        resolve_endpoint("us-east-1", "http://127.0.0.1:8000", environ) == "http://127.0.0.1:8000"
    )


def test_without_a_region_anywhere_it_is_botocores_no_region_error() -> None:
    with pytest.raises(NoRegionError):
        resolve_region(None, {"AWS_CONFIG_FILE": "/nonexistent"})
    assert resolve_region(None, {"AWS_DEFAULT_REGION": "eu-west-3"}) == "eu-west-3"


def test_error_codes_lose_their_namespace_and_keep_the_message() -> None:
    body = b'{"__type":"com.amazonaws.dynamodb.v20120810#ValidationException","Message":"bad"}'
    assert error_fields(400, body) == {"Error": {"Code": "ValidationException", "Message": "bad"}}


def test_an_error_without_a_json_body_is_named_by_its_status() -> None:
    assert error_fields(502, b"<html>Bad Gateway</html>")["Error"] == {"Code": "502", "Message": ""}


def test_binary_values_travel_as_base64_and_come_back_as_bytes() -> None:
    request = {"Item": {"b": {"B": b"\x00\xff"}, "s": {"BS": [b"1", b"2"]}, "B": {"S": "B"}}}
    body = encode_body(request)
    assert b'"AP8="' in body
    assert decode_body(body) == request


def test_retries_cover_throttling_and_5xx_and_back_off_within_the_cap() -> None:
    retries = TransportRetries(max_delay=0.5)
    assert retries.retryable_error(400, "ThrottlingException")
    assert retries.retryable_error(503, "ServiceUnavailable")
    assert not retries.retryable_error(400, "ConditionalCheckFailedException")
    assert all(0.0 <= retries.delay(attempt) <= 0.5 for attempt in range(1, 80))


def _client() -> LeanClient:
    return LeanClient(
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-1",
        aws_access_key_id="A",
        aws_secret_access_key="B",
    )


def test_before_call_hooks_can_answer_instead_of_dynamodb() -> None:
    client = _client()
    seen: list[str] = []

    def before_call(model: Any, params: dict[str, Any], **kwargs: Any) -> Any:
        # What a recorder of IAM actions reads, as on botocore's models.
        seen.append(f"{model.service_model.signing_name}:{model.name}")
        error = {"Error": {"Code": "ThrottlingException", "Message": "hooked"}}
        return AWSResponse("http://hooked.invalid", 400, HTTPHeaders(), None), error

    client.meta.events.register("before-call.dynamodb", before_call)
    with pytest.raises(client.exceptions.ThrottlingException) as raised:
        client.get_item(TableName="films", Key={})
    assert isinstance(raised.value, ClientError)
    assert seen == ["dynamodb:GetItem"]


def test_the_lean_path_never_imports_boto3() -> None:
    code = (
        "import sys\n"
        "from pydantic_dynamo.transport import LeanClient\n"
        "LeanClient(endpoint_url='http://127.0.0.1:9', region_name='us-east-1',"
        " aws_access_key_id='A', aws_secret_access_key='B')\n"
        "assert 'boto3' not in sys.modules, 'boto3 imported'\n"
        "assert 'botocore.client' not in sys.modules, 'botocore.client imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_keys_from_the_environment_sign_without_botocores_credential_chain() -> None:
    # What a Lambda cold start does: static keys and a token in the environment.
    code = (
        "import sys\n"
        "from pydantic_dynamo.transport import LeanClient\n"
        "client = LeanClient(endpoint_url='http://127.0.0.1:9')\n"
        "keys = client._credentials.frozen()\n"
        "assert tuple(keys) == ('AKID', 'SECRET', 'TOKEN'), keys\n"
        "headers = client._signer.sign(keys, 'http://127.0.0.1:9', b'{}', {})\n"
        "assert headers['X-Amz-Security-Token'] == 'TOKEN'\n"
        "for heavy in ('botocore.credentials', 'botocore.config', 'botocore.session', 'urllib3'):\n"
        "    assert heavy not in sys.modules, heavy + ' imported'\n"
    )
    environ = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_ACCESS_KEY_ID": "AKID",
        "AWS_SECRET_ACCESS_KEY": "SECRET",
        "AWS_SESSION_TOKEN": "TOKEN",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_CONFIG_FILE": os.devnull,
    }
    subprocess.run([sys.executable, "-c", code], check=True, env=environ)


def test_keys_with_an_expiration_in_the_environment_are_botocores_refreshable_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from botocore.credentials import RefreshableCredentials

    from pydantic_dynamo.transport.credentials import CredentialSource

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKID")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "SECRET")
    monkeypatch.setenv("AWS_CREDENTIAL_EXPIRATION", "2099-01-01T00:00:00Z")
    source = CredentialSource()
    assert isinstance(source.credentials, RefreshableCredentials)
    keys = source.frozen()
    assert keys is not None
    assert (keys.access_key, keys.secret_key, keys.token) == ("AKID", "SECRET", None)
    assert "SECRET" not in repr(source)


def test_https_endpoints_verify_certificates() -> None:
    import ssl

    from pydantic_dynamo.transport.http import HttpPool

    context = HttpPool("https://dynamodb.eu-west-1.amazonaws.com").context
    assert context is not None
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


def test_bodies_orjson_refuses_go_through_the_standard_library_as_before() -> None:
    import json
    import math

    # Written: a lone surrogate (escaped, as json always did) and an integer past 64 bits.
    assert encode_body({"k": "\ud800"}) == b'{"k":"\\ud800"}'
    assert encode_body({"Limit": 2**70}) == b'{"Limit":1180591620717411303424}'
    # Read: the same, and NaN.
    assert decode_body(b'{"k":"\\ud800"}') == {"k": "\ud800"}
    assert math.isnan(decode_body(b'{"v":NaN}')["v"])
    with pytest.raises(json.JSONDecodeError):
        decode_body(b'{"truncated":')


def test_text_beyond_ascii_travels_as_utf8_and_comes_back_equal() -> None:
    request = {"Item": {"name": {"S": "Zoë \u2013 東京 🎬"}}}
    body = encode_body(request)
    assert "Zoë \u2013 東京 🎬".encode() in body
    assert decode_body(body) == request


def test_transactions_carry_an_idempotency_token_as_botocore_adds_one() -> None:
    client = _client()
    sent: list[dict[str, Any]] = []

    def before_call(params: dict[str, Any], **kwargs: Any) -> Any:
        sent.append(dict(params))
        return AWSResponse("http://hooked.invalid", 200, HTTPHeaders(), None), {}

    client.meta.events.register("before-call.dynamodb", before_call)
    client.transact_write_items(TransactItems=[])
    client.transact_write_items(TransactItems=[], ClientRequestToken="mine")
    first, second = sent
    assert len(first["ClientRequestToken"]) == 36
    assert second["ClientRequestToken"] == "mine"


def test_retries_stop_when_the_quota_is_spent_and_successes_refill_it() -> None:
    from pydantic_dynamo.transport.http import HttpAnswer
    from pydantic_dynamo.transport.retries import RetryQuota

    client = LeanClient(
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-1",
        aws_access_key_id="A",
        aws_secret_access_key="B",
        retries=TransportRetries(max_attempts=6, base_delay=0.0, max_delay=0.0),
    )
    throttled = HttpAnswer(400, {}, b'{"__type":"ThrottlingException","message":"slow down"}')
    ok = HttpAnswer(200, {}, b"{}")
    answers = {"next": throttled}
    sends: list[str] = []

    def before_send(**kwargs: Any) -> Any:
        sends.append("send")
        return answers["next"]

    client.meta.events.register("before-send.dynamodb", before_send)
    # 500 / 5 = 100 retries: 20 calls of 1 try + 5 retries spend the quota exactly.
    for _ in range(20):
        with pytest.raises(client.exceptions.ThrottlingException):
            client.get_item(TableName="films", Key={})
    assert len(sends) == 20 * 6
    assert client._quota.available == 0
    sends.clear()
    with pytest.raises(client.exceptions.ThrottlingException):
        client.get_item(TableName="films", Key={})
    assert sends == ["send"], "retried with the quota spent"
    answers["next"] = ok
    client.get_item(TableName="films", Key={})
    assert client._quota.available == RetryQuota.NO_RETRY_INCREMENT
