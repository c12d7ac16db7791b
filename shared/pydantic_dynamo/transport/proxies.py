"""Which HTTP proxy the lean transport goes through, chosen as botocore chooses it.

botocore takes the client config's ``proxies`` (``{"https": url, "http": url}``) first, else the
environment: ``https_proxy``/``HTTPS_PROXY`` for an https endpoint, ``http_proxy``/``HTTP_PROXY``
for an http one (the lower-case spelling wins, an empty one means none, as in the standard
library's ``getproxies``), unless ``no_proxy``/``NO_PROXY`` names the endpoint: ``*`` for every
host, or comma-separated host names, each matching itself and its subdomains (a leading dot
changes nothing), with or without a port. ``ALL_PROXY`` is not read (botocore does not read it).

The lean transport reaches the endpoint through a ``CONNECT`` tunnel (TLS then runs end to end,
verified against the endpoint's host name), authenticating to the proxy with the user and
password of its URL, if any (HTTP Basic). The password is kept only in the header it becomes:
the proxy's ``repr`` and ``url`` show neither.

>>> proxy = proxy_for("https://dynamodb.eu-west-1.amazonaws.com",
...                   environ={"HTTPS_PROXY": "http://me:secret@proxy.internal:3128"})
>>> proxy.url, proxy.host, proxy.port, proxy.authorization
('http://proxy.internal:3128', 'proxy.internal', 3128, 'Basic bWU6c2VjcmV0')
>>> proxy_for("http://127.0.0.1:8000", environ={"HTTP_PROXY": "p:3128", "NO_PROXY": "127.0.0.1"})
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

__all__ = ["Proxy", "ProxyUnsupportedError", "bypasses_proxy", "proxy_for"]


class ProxyUnsupportedError(ValueError):
    """A proxy the lean transport cannot tunnel through (an ``https://`` one: TLS to the proxy
    itself, then TLS to the endpoint inside it); boto3 can."""


class Proxy:
    """An HTTP proxy to tunnel through: where it is, and its ``Proxy-Authorization``."""

    __slots__ = ("authorization", "host", "port", "url")

    def __init__(self, url: str) -> None:
        if "://" not in url:
            url = "http://" + url  # "proxy:3128", as botocore reads it
        parts = urlsplit(url)
        if parts.scheme != "http":
            raise ProxyUnsupportedError(
                f"the lean transport tunnels through http:// proxies only, not {parts.scheme}://"
                " (PYDANTIC_DYNAMO_TRANSPORT=boto3 selects boto3, which does)"
            )
        self.host = parts.hostname or ""
        if not self.host:
            raise ValueError("the proxy URL names no host")
        self.port = parts.port or 80
        shown = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"http://{shown}:{self.port}"
        self.authorization: str | None = None
        if parts.username is not None:
            user_password = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            token = base64.b64encode(user_password.encode("utf-8")).decode("ascii")
            self.authorization = f"Basic {token}"

    def __repr__(self) -> str:
        return f"Proxy({self.url!r})"


def _env(name: str, environ: Mapping[str, str]) -> str | None:
    """A proxy variable: the lower-case spelling first (empty: none), then the upper-case."""
    lower = environ.get(name.lower())
    if lower is not None:
        return lower or None
    return environ.get(name.upper()) or None


def bypasses_proxy(url: str, no_proxy: str | None) -> bool:
    """Whether ``no_proxy`` (a ``NO_PROXY`` value) names the host (and port) of ``url``.

    >>> bypasses_proxy("https://dynamodb.eu-west-1.amazonaws.com", ".amazonaws.com")
    True
    >>> bypasses_proxy("http://127.0.0.1:8000", "127.0.0.1:8001"), bypasses_proxy("http://x", "*")
    (False, True)
    """
    if not no_proxy:
        return False
    if no_proxy.strip() == "*":
        return True
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    default_port = 443 if parts.scheme == "https" else 80
    with_port = f"{host}:{parts.port or default_port}"
    for entry in no_proxy.split(","):
        name = entry.strip().lstrip(".").lower()
        if name.startswith("[") and "]" in name:  # an IPv6 literal, maybe with a port
            address, _, port = name[1:].partition("]")
            name = address + port
        if not name:
            continue
        if name in (host, with_port) or host.endswith("." + name) or with_port.endswith("." + name):
            return True
    return False


def proxy_for(
    endpoint_url: str, config: Any = None, environ: Mapping[str, str] = os.environ
) -> Proxy | None:
    """The proxy requests to ``endpoint_url`` go through (``None``: straight to it).

    ``config`` is a botocore ``Config``: its ``proxies`` win over the environment.
    """
    scheme = urlsplit(endpoint_url).scheme
    configured = getattr(config, "proxies", None) or {}
    url = configured.get(scheme)
    if url is None:
        url = _env(f"{scheme}_proxy", environ)
        if url is None or bypasses_proxy(endpoint_url, _env("no_proxy", environ)):
            return None
    return Proxy(url)
