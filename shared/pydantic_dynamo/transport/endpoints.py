"""Region and endpoint of the lean transport, resolved as boto3 resolves them.

Region: the ``region_name`` given, else ``AWS_DEFAULT_REGION``, else the session's config
(profile files). Endpoint: the ``endpoint_url`` given, else the service's variable
(``AWS_ENDPOINT_URL_DYNAMODB``, ``AWS_ENDPOINT_URL_EVENTBRIDGE``), else ``AWS_ENDPOINT_URL``
(both ignored under ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS``), else a ``services``/
``endpoint_url`` entry of the config file, else the regional endpoint of the region's partition,
as botocore's endpoint rules build it: FIPS when ``AWS_USE_FIPS_ENDPOINT`` (or the config's
``use_fips_endpoint``, or the profile's) is true, dual-stack (IPv4 and IPv6, ``api.aws``) when
``AWS_USE_DUALSTACK_ENDPOINT`` (or ``use_dualstack_endpoint``) is. A configured endpoint wins
over both, as in botocore.

>>> resolve_endpoint("eu-west-1", None, environ={})
'https://dynamodb.eu-west-1.amazonaws.com'
>>> resolve_endpoint("cn-north-1", None, environ={})
'https://dynamodb.cn-north-1.amazonaws.com.cn'
>>> resolve_endpoint("us-east-1", None, environ={"AWS_USE_DUALSTACK_ENDPOINT": "true"})
'https://dynamodb.us-east-1.api.aws'
>>> resolve_endpoint("us-east-1", None, environ={"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000"})
'http://127.0.0.1:8000'
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from botocore.exceptions import NoRegionError

from pydantic_dynamo.transport.service import DYNAMODB, ServiceSpec

__all__ = ["Partition", "partition_of", "resolve_endpoint", "resolve_region"]


class Partition:
    """An AWS partition's DNS suffixes (botocore's ``partitions.json``)."""

    __slots__ = ("dns_suffix", "dualstack_dns_suffix", "name", "pattern")

    def __init__(self, name: str, pattern: str, dns_suffix: str, dualstack_dns_suffix: str):
        self.name = name
        self.pattern = re.compile(pattern)
        self.dns_suffix = dns_suffix
        self.dualstack_dns_suffix = dualstack_dns_suffix


_PARTITIONS = (
    Partition("aws", r"^(us|eu|ap|sa|ca|me|af|il|mx)\-\w+\-\d+$", "amazonaws.com", "api.aws"),
    Partition("aws-cn", r"^cn\-\w+\-\d+$", "amazonaws.com.cn", "api.amazonwebservices.com.cn"),
    Partition("aws-eusc", r"^eusc\-(de)\-\w+\-\d+$", "amazonaws.eu", "api.amazonwebservices.eu"),
    Partition("aws-iso", r"^us\-iso\-\w+\-\d+$", "c2s.ic.gov", "api.aws.ic.gov"),
    Partition("aws-iso-b", r"^us\-isob\-\w+\-\d+$", "sc2s.sgov.gov", "api.aws.scloud"),
    Partition("aws-iso-e", r"^eu\-isoe\-\w+\-\d+$", "cloud.adc-e.uk", "api.cloud-aws.adc-e.uk"),
    Partition("aws-iso-f", r"^us\-isof\-\w+\-\d+$", "csp.hci.ic.gov", "api.aws.hci.ic.gov"),
    Partition("aws-us-gov", r"^us\-gov\-\w+\-\d+$", "amazonaws.com", "api.aws"),
)
# A region no pattern matches is in the aws partition, as botocore's rules decide.
_DEFAULT_PARTITION = _PARTITIONS[0]


def partition_of(region: str) -> Partition:
    """The partition ``region`` belongs to."""
    # The specific partitions first: "us-gov-west-1" also matches aws's pattern.
    for partition in reversed(_PARTITIONS):
        if partition.pattern.match(region):
            return partition
    return _DEFAULT_PARTITION


def _true(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() == "true"


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
    region: str,
    endpoint_url: str | None,
    environ: Mapping[str, str] = os.environ,
    *,
    service: ServiceSpec = DYNAMODB,
    config: Any = None,
) -> str:
    """The URL requests go to (no trailing slash); ``config`` is a botocore ``Config``."""
    if endpoint_url:
        return endpoint_url.rstrip("/")
    if not _true(environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")):
        configured = next(
            (environ[name] for name in service.endpoint_env if environ.get(name)), None
        )
        configured = configured or environ.get("AWS_ENDPOINT_URL")
        if not configured and _config_file_exists(environ):
            configured = _configured_in_file(service)
        if configured:
            return str(configured).rstrip("/")
    fips = _flag("use_fips_endpoint", "AWS_USE_FIPS_ENDPOINT", config, environ)
    dualstack = _flag("use_dualstack_endpoint", "AWS_USE_DUALSTACK_ENDPOINT", config, environ)
    return regional_endpoint(service, region, fips=fips, dualstack=dualstack)


def regional_endpoint(service: ServiceSpec, region: str, *, fips: bool, dualstack: bool) -> str:
    """The service's endpoint in ``region``, as botocore's endpoint rules build it.

    >>> from pydantic_dynamo.transport.service import EVENTS
    >>> regional_endpoint(EVENTS, "us-west-2", fips=True, dualstack=True)
    'https://events-fips.us-west-2.api.aws'
    >>> regional_endpoint(DYNAMODB, "us-gov-west-1", fips=True, dualstack=False)
    'https://dynamodb.us-gov-west-1.amazonaws.com'
    """
    partition = partition_of(region)
    suffix = partition.dualstack_dns_suffix if dualstack else partition.dns_suffix
    gov = partition.name == "aws-us-gov"
    if fips and dualstack:
        fips = not (gov and service.gov_fips_dualstack_is_standard)
    elif fips:
        fips = not ((gov and service.gov_fips_is_standard) or region in service.fips_is_standard_in)
    prefix = f"{service.endpoint_prefix}-fips" if fips else service.endpoint_prefix
    return f"https://{prefix}.{region}.{suffix}"


def _flag(name: str, variable: str, config: Any, environ: Mapping[str, str]) -> bool:
    """A boolean setting: the client's config first, then the environment, then the profile."""
    given = getattr(config, name, None)
    if given is not None:
        return _true(given)
    if variable in environ:
        return _true(environ[variable])
    if _config_file_exists(environ):
        return _true(_session().get_config_variable(name))
    return False


def _configured_in_file(service: ServiceSpec) -> str | None:
    from botocore.configprovider import ConfiguredEndpointProvider

    session = _session()
    provider = ConfiguredEndpointProvider(
        full_config=session.full_config,
        scoped_config=session.get_scoped_config(),
        client_name=service.service_name,
    )
    found = provider.provide()
    return str(found) if found else None
