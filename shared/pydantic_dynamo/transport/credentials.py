"""Where the lean transport's credentials come from: botocore's provider chain, cheaply.

Explicit keys win. Otherwise the environment comes first, as in botocore's chain: static keys
(``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` and ``AWS_SESSION_TOKEN`` or
``AWS_SECURITY_TOKEN``, what Lambda sets) are read as botocore's ``EnvProvider`` reads them,
without importing ``botocore.credentials`` (slow to import: docs/lean-transport.md); keys with an
``AWS_CREDENTIAL_EXPIRATION`` go to botocore's own ``EnvProvider``, which refreshes them. Only
without them is a botocore session built to walk the whole chain (profiles, SSO, process,
container and instance roles). Refreshable credentials stay refreshable:
:meth:`CredentialSource.frozen` asks for a fresh snapshot before each signing, and botocore
refreshes them when they near expiry.

The async client asks :meth:`CredentialSource.afrozen` and :meth:`CredentialSource.aexpire`
instead: aiobotocore's credentials (whose snapshot and refresh are coroutines) are awaited,
and whatever would block the event loop (walking the chain the first time, a botocore refresh
from STS, the container or the instance endpoint) runs in a thread; a snapshot that needs no
refresh is taken inline.
"""

from __future__ import annotations

import os
import threading
from typing import Any, NamedTuple

__all__ = ["CredentialSource", "FrozenCredentials", "StaticCredentials"]

# Errors by which DynamoDB says the signing credentials have expired.
EXPIRED_CREDENTIAL_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired"})


class FrozenCredentials(NamedTuple):
    """One consistent set of keys, shaped as botocore's ``ReadOnlyCredentials``."""

    access_key: str
    secret_key: str
    token: str | None


class StaticCredentials:
    """Keys that never change (given, or from the environment); ``repr`` shows no key."""

    method = "static"

    def __init__(self, access_key: str, secret_key: str, token: str | None = None) -> None:
        self._frozen = FrozenCredentials(access_key, secret_key, token or None)

    def __repr__(self) -> str:
        return "StaticCredentials(<hidden>)"

    def get_frozen_credentials(self) -> FrozenCredentials:
        """The keys, as botocore's credentials objects hand them out."""
        return self._frozen


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
            credentials = StaticCredentials(
                aws_access_key_id, aws_secret_access_key, aws_session_token
            )
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

    def frozen(self) -> FrozenCredentials | None:
        """A consistent snapshot to sign with (``None`` when the chain found nothing).

        botocore's ``ReadOnlyCredentials`` (from a refreshable chain) has the same fields.
        """
        credentials = self.credentials
        if credentials is None:
            return None
        frozen: FrozenCredentials = credentials.get_frozen_credentials()
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

    async def afrozen(self) -> FrozenCredentials | None:
        """:meth:`frozen` for the async client, never blocking its event loop (module doc)."""
        import asyncio

        credentials = self._credentials
        if credentials is None:
            credentials = await asyncio.to_thread(lambda: self.credentials)
            if credentials is None:
                return None
        getter = credentials.get_frozen_credentials
        if _is_coroutine_function(getter):  # aiobotocore's credentials
            frozen: FrozenCredentials = await getter()
            return frozen
        if _refresh_due(credentials):
            return await asyncio.to_thread(self.frozen)
        return self.frozen()

    async def aexpire(self) -> bool:
        """:meth:`expire` for the async client, never blocking its event loop."""
        import asyncio

        credentials = self.credentials
        refresh = getattr(credentials, "_protected_refresh", None)
        lock = getattr(credentials, "_refresh_lock", None)
        if refresh is None or lock is None:
            return False
        if not _is_coroutine_function(refresh):
            return await asyncio.to_thread(self.expire)
        async with lock:  # aiobotocore's: an asyncio.Lock and a coroutine, as its _refresh
            await refresh(is_mandatory=True)
        return True


def _is_coroutine_function(function: Any) -> bool:
    import inspect

    return inspect.iscoroutinefunction(function)


def _refresh_due(credentials: Any) -> bool:
    """Whether botocore's refreshable credentials would refresh (I/O) on the next snapshot."""
    refresh_needed = getattr(credentials, "refresh_needed", None)
    return bool(refresh_needed()) if refresh_needed is not None else False


def _from_chain() -> Any:
    environ = os.environ
    access_key = environ.get("AWS_ACCESS_KEY_ID")
    secret_key = environ.get("AWS_SECRET_ACCESS_KEY")
    if access_key and secret_key:
        if not environ.get("AWS_CREDENTIAL_EXPIRATION"):
            token = environ.get("AWS_SESSION_TOKEN") or environ.get("AWS_SECURITY_TOKEN")
            return StaticCredentials(access_key, secret_key, token)
        from botocore.credentials import EnvProvider

        found = EnvProvider().load()
        if found is not None:
            return found
    import botocore.session

    return botocore.session.get_session().get_credentials()
