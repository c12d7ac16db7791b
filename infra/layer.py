"""The shared Lambda layer: the library, the service's code and their dependencies."""

from __future__ import annotations

from aws_cdk import AssetHashType
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import cdk_settings
from layer.build import LayerBuild, build_layer


class SharedLayer(Construct):
    """One layer version built by ``layer.build`` (no Docker), used by every function.

    The asset hash is the build's input hash, so an unchanged layer is neither re-staged nor
    re-uploaded nor re-published by ``cdk deploy``.
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.build: LayerBuild = build_layer()
        self.layer = self._layer_version()

    def _layer_version(self) -> lambda_.LayerVersion:
        return lambda_.LayerVersion(
            self,
            "Layer",
            code=lambda_.Code.from_asset(
                str(self.build.zip_path),
                asset_hash=self.build.input_hash,
                asset_hash_type=AssetHashType.CUSTOM,
            ),
            compatible_runtimes=[cdk_settings.RUNTIME],
            compatible_architectures=[cdk_settings.ARCHITECTURE],
            description=(
                "pydantic_dynamo, records_service, pydantic and Powertools "
                f"(inputs {self.build.input_hash[:12]})"
            ),
        )
