"""The AWS services the lean transport speaks to, each described by what its JSON protocol needs.

A service is its names (botocore's: the service name, the signing name IAM and SigV4 use, the
endpoint prefix, the id hooks are named by), its protocol (the ``X-Amz-Target`` prefix and the
JSON version of the content type) and where its endpoint comes from (the
``AWS_ENDPOINT_URL_<SERVICE>`` variables and the host names of its FIPS endpoints).

>>> EVENTS.target("PutEvents"), EVENTS.content_type
('AWSEvents.PutEvents', 'application/x-amz-json-1.1')
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DYNAMODB", "EVENTS", "ServiceSpec"]


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """One AWS JSON-protocol service (see the module doc)."""

    service_name: str  # botocore's service name (and the config file's services section key)
    signing_name: str  # SigV4's service, IAM's action prefix
    endpoint_prefix: str  # the first label of its regional host names
    event_name: str  # botocore's hyphenised service id, which names its hooks' events
    api_version: str
    target_prefix: str  # X-Amz-Target is target_prefix + "." + operation
    json_version: str  # "1.0", "1.1"
    endpoint_env: tuple[str, ...]  # service-specific endpoint variables, first wins
    # Where the FIPS endpoint is the standard host name, as botocore's endpoint rules say: in
    # the whole GovCloud partition (DynamoDB), or in the regions listed (EventBridge).
    gov_fips_is_standard: bool = False
    fips_is_standard_in: tuple[str, ...] = ()
    # Whether GovCloud's FIPS dual-stack endpoint drops "-fips" (EventBridge's rules do).
    gov_fips_dualstack_is_standard: bool = False

    @property
    def content_type(self) -> str:
        """The ``Content-Type`` of its requests."""
        return f"application/x-amz-json-{self.json_version}"

    def target(self, operation: str) -> str:
        """The ``X-Amz-Target`` header of ``operation``."""
        return f"{self.target_prefix}.{operation}"


DYNAMODB = ServiceSpec(
    service_name="dynamodb",
    signing_name="dynamodb",
    endpoint_prefix="dynamodb",
    event_name="dynamodb",
    api_version="2012-08-10",
    target_prefix="DynamoDB_20120810",
    json_version="1.0",
    endpoint_env=("AWS_ENDPOINT_URL_DYNAMODB",),
    gov_fips_is_standard=True,
)

EVENTS = ServiceSpec(
    service_name="events",
    signing_name="events",
    endpoint_prefix="events",
    event_name="eventbridge",
    api_version="2015-10-07",
    target_prefix="AWSEvents",
    json_version="1.1",
    # boto3 reads AWS_ENDPOINT_URL_EVENTBRIDGE (from the service id); AWS_ENDPOINT_URL_EVENTS
    # (from the service name) is taken too.
    endpoint_env=("AWS_ENDPOINT_URL_EVENTBRIDGE", "AWS_ENDPOINT_URL_EVENTS"),
    fips_is_standard_in=("us-gov-east-1", "us-gov-west-1"),
    gov_fips_dualstack_is_standard=True,
)
