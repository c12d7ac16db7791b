"""Signing DynamoDB requests with botocore's own SigV4 signer, quietly and with a skew offset.

The canonical request, the string to sign and the signature are botocore's
(:class:`botocore.auth.SigV4Auth`); what this module changes is only *when* and *how loudly*:

- the signing time is ``now + skew`` (the offset learnt from a clock-skew error), and
- nothing is logged: botocore's ``add_auth`` writes the canonical request, the string to sign
  and the signature to its debug log, and this transport must never write a signature anywhere.

>>> from botocore.credentials import ReadOnlyCredentials
>>> signer = Signer("us-east-1")
>>> headers = signer.sign(
...     ReadOnlyCredentials("AKID", "SECRET", None), "http://127.0.0.1:8000/", b"{}", {},
...     when=datetime.datetime(2024, 1, 1),
... )
>>> headers["X-Amz-Date"], headers["Authorization"].split(",")[0]
('20240101T000000Z', 'AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/dynamodb/aws4_request')
"""

from __future__ import annotations

import datetime
from typing import Any

from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.credentials import ReadOnlyCredentials
from botocore.exceptions import NoCredentialsError

__all__ = ["Signer", "SigningRequest"]

SERVICE = "dynamodb"


class SigningRequest:
    """The few attributes of a request that :class:`~botocore.auth.SigV4Auth` reads.

    A lighter stand-in for ``botocore.awsrequest.AWSRequest``, whose ``body`` property prepares
    a whole new request each time it is read.
    """

    __slots__ = ("body", "context", "headers", "method", "params", "url")

    def __init__(self, url: str, body: bytes, headers: dict[str, str]) -> None:
        self.method = "POST"
        self.url = url
        self.body = body
        self.headers = headers
        self.params: dict[str, str] = {}
        self.context: dict[str, Any] = {}


class _QuietSigV4Auth(SigV4Auth):
    """botocore's SigV4 with a given signing time and without its debug logging."""

    def sign_at(self, request: SigningRequest, when: datetime.datetime) -> None:
        """``add_auth`` step by step (botocore's own steps), minus its logging."""
        if self.credentials is None:
            raise NoCredentialsError()
        request.context["timestamp"] = when.strftime(SIGV4_TIMESTAMP)
        # The stubs type these for AWSRequest; SigningRequest has every attribute they read.
        auth: Any = self
        auth._modify_request_before_signing(request)
        canonical_request = auth.canonical_request(request)
        string_to_sign = auth.string_to_sign(request, canonical_request)
        signature = auth.signature(string_to_sign, request)
        auth._inject_signature_to_request(request, signature)


class Signer:
    """Signs DynamoDB requests for one region; ``skew`` (seconds) corrects a wrong local clock."""

    def __init__(self, region: str) -> None:
        self.region = region
        self.skew = 0.0

    def sign(
        self,
        credentials: ReadOnlyCredentials | None,
        url: str,
        body: bytes,
        headers: dict[str, str],
        *,
        when: datetime.datetime | None = None,
    ) -> dict[str, str]:
        """``headers`` plus ``X-Amz-Date``, ``Authorization`` (and the session token), in place.

        ``when`` (naive UTC) is for tests; by default it is now, corrected by ``skew``.
        """
        if when is None:
            now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
            when = now + datetime.timedelta(seconds=self.skew) if self.skew else now
        auth = _QuietSigV4Auth(credentials, SERVICE, self.region)  # type: ignore[arg-type]
        auth.sign_at(SigningRequest(url, body, headers), when)
        return headers
