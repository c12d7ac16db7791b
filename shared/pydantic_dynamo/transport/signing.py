"""SigV4 for JSON-protocol requests (DynamoDB's, EventBridge's): botocore's, specialised, cached.

Every request this transport sends has the same shape (``POST /``, no query string, a handful of
headers, a JSON body), so the canonical request is built directly instead of through botocore's
general :class:`botocore.auth.SigV4Auth`, and the signing key (four HMACs of the date, region,
service and secret) is derived once per day and secret rather than per request. The steps and
their output are botocore's: tests sign the same requests with ``SigV4Auth`` (fixed cases and
generated ones: tokens, hosts, bodies, times, header spellings) and compare every header. What
a signature costs against botocore's ``add_auth`` is measured by
``python -m benchmarks.transport_bench`` (the figures are in docs/lean-transport.md).

Nothing is logged (botocore's ``add_auth`` writes the canonical request and the signature to its
debug log; this transport never writes a signature anywhere), and the signing time is
``now + skew``, the offset learnt from a clock-skew error.

>>> from pydantic_dynamo.transport.credentials import FrozenCredentials
>>> signer = Signer("us-east-1")
>>> headers = signer.sign(
...     FrozenCredentials("AKID", "SECRET", None), "http://127.0.0.1:8000/", b"{}", {},
...     when=datetime.datetime(2024, 1, 1),
... )
>>> headers["X-Amz-Date"], headers["Authorization"].split(",")[0]
('20240101T000000Z', 'AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/dynamodb/aws4_request')
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import time
from typing import Protocol
from urllib.parse import urlsplit

from botocore.exceptions import NoCredentialsError

__all__ = ["Signer", "SigningKeys"]

SERVICE = "dynamodb"
_ALGORITHM = "AWS4-HMAC-SHA256"
# Headers botocore leaves out of the signature (botocore.auth.SIGNED_HEADERS_BLACKLIST).
_UNSIGNED = frozenset({"expect", "transfer-encoding", "user-agent", "x-amzn-trace-id"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Headers a signature sets, replacing any of them already there (in any spelling).
_REPLACED = frozenset({"authorization", "x-amz-date"})
_REPLACED_WITH_TOKEN = _REPLACED | {"x-amz-security-token"}


class SigningKeys(Protocol):
    """What a signature needs of a credentials snapshot (botocore's ``ReadOnlyCredentials``, or
    :class:`~pydantic_dynamo.transport.credentials.FrozenCredentials`)."""

    @property
    def access_key(self) -> str | None: ...

    @property
    def secret_key(self) -> str | None: ...

    @property
    def token(self) -> str | None: ...


class Signer:
    """Signs requests for one region and service (its signing name: ``"dynamodb"``,
    ``"events"``); ``skew`` (seconds) corrects a wrong local clock."""

    def __init__(self, region: str, service: str = SERVICE) -> None:
        self.region = region
        self.service = service
        self.skew = 0.0
        self._scope_tail = f"/{region}/{service}/aws4_request"
        # (secret key, date stamp, signing key): the last one only, a key lasts a whole day.
        # One tuple, read and replaced whole, so that threads never mix two days' parts.
        self._key: tuple[str, str, bytes] = ("", "", b"")
        # (whole second, its X-Amz-Date): formatted once per second.
        self._date_of: tuple[int, str] = (-1, "")
        self._hosts: dict[str, str] = {}

    def sign(
        self,
        credentials: SigningKeys | None,
        url: str,
        body: bytes,
        headers: dict[str, str],
        *,
        when: datetime.datetime | None = None,
    ) -> dict[str, str]:
        """``headers`` plus ``X-Amz-Date``, ``Authorization`` (and the session token), in place.

        ``when`` (naive UTC) is for tests; by default it is now, corrected by ``skew``.
        """
        if credentials is None or not credentials.secret_key:
            raise NoCredentialsError()
        amz_date = self._date(when)
        # As botocore: any Authorization and X-Amz-Date go; a session token header goes only
        # when these credentials bring their own.
        replaced = _REPLACED_WITH_TOKEN if credentials.token else _REPLACED
        for name in [name for name in headers if name.lower() in replaced]:
            del headers[name]
        headers["X-Amz-Date"] = amz_date
        if credentials.token:
            headers["X-Amz-Security-Token"] = credentials.token
        signed: dict[str, list[str]] = {}
        for name, value in headers.items():
            lowered = name.lower()
            if lowered not in _UNSIGNED:
                signed.setdefault(lowered, []).append(" ".join(value.split()))
        if "host" not in signed:
            signed["host"] = [self._host_of(url)]
        names = sorted(signed)
        signed_names = ";".join(names)
        canonical = "POST\n/\n\n{}\n\n{}\n{}".format(
            "\n".join([f"{name}:{','.join(signed[name])}" for name in names]),
            signed_names,
            hashlib.sha256(body).hexdigest(),
        )
        day = amz_date[:8]
        scope = day + self._scope_tail
        to_sign = "\n".join(
            (_ALGORITHM, amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest())
        )
        signature = hmac.digest(
            self._signing_key(credentials.secret_key, day), to_sign.encode(), "sha256"
        )
        headers["Authorization"] = (
            f"{_ALGORITHM} Credential={credentials.access_key}/{scope}, "
            f"SignedHeaders={signed_names}, Signature={signature.hex()}"
        )
        return headers

    def _date(self, when: datetime.datetime | None) -> str:
        if when is not None:
            return when.strftime("%Y%m%dT%H%M%SZ")
        second = int(time.time() + self.skew)
        cached_second, amz_date = self._date_of
        if second != cached_second:
            amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(second))
            self._date_of = (second, amz_date)
        return amz_date

    def _signing_key(self, secret: str, day: str) -> bytes:
        cached_secret, cached_day, key = self._key
        if cached_secret != secret or cached_day != day:
            key = hmac.digest(("AWS4" + secret).encode(), day.encode(), "sha256")
            for part in (self.region, self.service, "aws4_request"):
                key = hmac.digest(key, part.encode(), "sha256")
            self._key = (secret, day, key)
        return key

    def _host_of(self, url: str) -> str:
        """botocore's Host for a URL: lower-cased, no user info, the port unless the default."""
        host = self._hosts.get(url)
        if host is None:
            parts = urlsplit(url)
            host = parts.hostname or ""
            if ":" in host:  # an IPv6 literal
                host = f"[{host}]"
            if parts.port is not None and parts.port != _DEFAULT_PORTS.get(parts.scheme):
                host = f"{host}:{parts.port}"
            self._hosts[url] = host
        return host
