"""Region and endpoint of the lean transport, resolved as boto3 resolves them for DynamoDB.

Region: the ``region_name`` given, else ``AWS_DEFAULT_REGION``, else the session's config
(profile files). Endpoint: the ``endpoint_url`` given, else ``AWS_ENDPOINT_URL_DYNAMODB``, else
``AWS_ENDPOINT_URL`` (both ignored under ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS``), else a
``services``/``endpoint_url`` entry of the config file, else the regional endpoint (FIPS when
``AWS_USE_FIPS_ENDPOINT`` is true).

>>> resolve_endpoint("eu-west-1", None, environ={})
'https://dynamodb.eu-west-1.amazonaws.com'
>>> resolve_endpoint("cn-north-1", None, environ={})
'https://dynamodb.cn-north-1.amazonaws.com.cn'
>>> resolve_endpoint("us-east-1", None, environ={"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000"})
'http://127.0.0.1:8000'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from botocore.exceptions import NoRegionError

__all__ = ["resolve_endpoint", "resolve_region"]

# DNS suffixes of the partitions whose regions are not under amazonaws.com.
_SUFFIXES = (
    ("cn-", "amazonaws.com.cn"),
    ("us-isob-", "sc2s.sgov.gov"),
    ("us-iso-", "c2s.ic.gov"),
    ("eu-isoe-", "cloud.adc-e.uk"),
    ("us-isof-", "csp.hci.ic.gov"),
)


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def _config_file_exists(environ: Mapping[str, str]) -> bool:
    path = environ.get("AWS_CONFIG_FILE", "~/.aws/config")
    return path != os.devnull and Path(path).expanduser().is_file()


def _session() -> Any:
    import botocore.session

    return botocore.session.get_session()


def resolve_region(region_name: str | None, environ: Mapping[str, str] = os.environ) -> str:
    """The region to sign for and send to."""
    region = region_name or environ.get("AWS_DEFAULT_REGION")
    if not region and _config_file_exists(environ):
        region = _session().get_config_variable("region")
    if not region:
        raise NoRegionError()
    return str(region)


def resolve_endpoint(
    region: str, endpoint_url: str | None, environ: Mapping[str, str] = os.environ
) -> str:
    """The URL requests go to (no trailing slash)."""
    if endpoint_url:
        return endpoint_url.rstrip("/")
    if not _true(environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")):
        configured = environ.get("AWS_ENDPOINT_URL_DYNAMODB") or environ.get("AWS_ENDPOINT_URL")
        if not configured and _config_file_exists(environ):
            configured = _configured_in_file()
        if configured:
            return str(configured).rstrip("/")
    suffix = next((dns for prefix, dns in _SUFFIXES if region.startswith(prefix)), "amazonaws.com")
    host = "dynamodb-fips" if _true(environ.get("AWS_USE_FIPS_ENDPOINT")) else "dynamodb"
    return f"https://{host}.{region}.{suffix}"


def _configured_in_file() -> str | None:
    from botocore.configprovider import ConfiguredEndpointProvider

    session = _session()
    provider = ConfiguredEndpointProvider(
        full_config=session.full_config,
        scoped_config=session.get_scoped_config(),
        client_name="dynamodb",
    )
    found = provider.provide()
    return str(found) if found else None
