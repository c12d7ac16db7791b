"""Where the lean transport's credentials come from: botocore's provider chain, cheaply.

Explicit keys win. Otherwise the environment (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``,
what Lambda sets) is read by botocore's own :class:`~botocore.credentials.EnvProvider`, first
in botocore's chain too; only without it is a botocore session built to walk the whole chain
(profiles, SSO, process, container and instance roles). Refreshable credentials stay
refreshable: :meth:`CredentialSource.frozen` asks for a fresh snapshot before each signing, and
botocore refreshes them when they near expiry.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from botocore.credentials import Credentials, ReadOnlyCredentials

__all__ = ["CredentialSource"]

# Errors by which DynamoDB says the signing credentials have expired.
EXPIRED_CREDENTIAL_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired"})


class CredentialSource:
    """Resolves credentials once (lazily) and hands out a frozen snapshot for each signing.

    ``credentials`` is anything with ``get_frozen_credentials()`` (botocore's ``Credentials``
    or ``RefreshableCredentials``); when omitted, they come from the keys given or the chain.
    Its ``repr`` never shows a key.
    """

    def __init__(
        self,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
        *,
        credentials: Any = None,
    ) -> None:
        if credentials is None and aws_access_key_id and aws_secret_access_key:
            credentials = Credentials(aws_access_key_id, aws_secret_access_key, aws_session_token)
        self._credentials = credentials
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"CredentialSource(resolved={self._credentials is not None})"

    @property
    def credentials(self) -> Any:
        """The underlying botocore credentials object, resolved on first use (may be ``None``)."""
        if self._credentials is None:
            with self._lock:
                if self._credentials is None:
                    self._credentials = _from_chain()
        return self._credentials

    def frozen(self) -> ReadOnlyCredentials | None:
        """A consistent snapshot to sign with (``None`` when the chain found nothing)."""
        credentials = self.credentials
        if credentials is None:
            return None
        frozen: ReadOnlyCredentials = credentials.get_frozen_credentials()
        return frozen

    def expire(self) -> bool:
        """After DynamoDB said the credentials expired: force a refresh if they can refresh.

        Returns whether new credentials may now be used (so the request is worth resending).
        """
        credentials = self.credentials
        # botocore's RefreshableCredentials: refresh now, under its own lock, as its ``_refresh``
        # does when the expiry is near.
        refresh = getattr(credentials, "_protected_refresh", None)
        lock = getattr(credentials, "_refresh_lock", None)
        if refresh is None or lock is None:
            return False
        with lock:
            refresh(is_mandatory=True)
        return True


def _from_chain() -> Any:
    if os.environ.get("AWS_ACCESS_KEY_ID") and os.environ.get("AWS_SECRET_ACCESS_KEY"):
        from botocore.credentials import EnvProvider

        found = EnvProvider().load()
        if found is not None:
            return found
    import botocore.session

    return botocore.session.get_session().get_credentials()
