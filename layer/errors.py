"""The two ways the layer tooling fails, each with the reason in its message."""

from __future__ import annotations


class LayerBuildError(RuntimeError):
    """The layer could not be built, or the built layer breaks one of its invariants."""


class ArtifactError(RuntimeError):
    """The assembly lacks a piece, or the runtime's Python is not on this machine."""
