"""What the Lambda layer holds, what it leaves out, and for which handlers.

The layer holds the first-party packages ``pydantic_dynamo`` (from ``shared/``) and
``records_service`` (the service's code, at the top of the repository), and the third-party
packages pinned in ``layer/requirements.txt``. It carries no boto3/botocore (the runtime has
them) and drops a few pieces no handler uses (``PRUNED_PATHS``, ``PRUNED_ASSETS``); the build
proves on every run that nothing it keeps needs them (``layer.optimize``, ``layer.verify``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from infra import config
from layer.errors import LayerBuildError
from records_service import names, topology

PACKAGE_DIR: Final = Path(__file__).resolve().parent
REPO_ROOT: Final = PACKAGE_DIR.parent
REQUIREMENTS_FILE: Final = PACKAGE_DIR / "requirements.txt"
# The first-party packages that go into the layer -> the folder each one is a child of.
PACKAGE_ROOTS: Final = {
    "pydantic_dynamo": REPO_ROOT / "shared",
    "records_service": REPO_ROOT,
}
LAYER_PACKAGES: Final = tuple(PACKAGE_ROOTS)
# Lambda layers are extracted to /opt; the Python runtimes put /opt/python on sys.path.
LAYER_PYTHON_DIR: Final = "python"
LAYER_MOUNT: Final = "/opt"
# Packages that must never be in the layer: the runtime provides them, and a second copy would
# shadow the runtime's and grow the layer several times over (docs/deploy.md, "The layer").
FORBIDDEN_PACKAGES: Final = frozenset({"boto3", "botocore", "s3transfer"})
# The only bytecode the layer may hold: CPython's cache tag of the runtime's version.
CACHE_TAG: Final = f"cpython-{config.PYTHON_VERSION.replace('.', '')}"
# Modules no handler uses: the index backfill, Pydantic's mypy plugin and Powertools
# sub-packages (their sizes are in docs/deploy.md, "The layer"). ``layer.verify.check_layer``
# proves on every build that nothing the layer keeps imports them, at module level or inside a
# function; the handlers' imports then run from the pruned layer. schema_validation is the
# middleware of the validation utility (it imports it); batch's parser import is why the parser
# stays. The last entry must stay a package (the tests use it so).
PRUNED_PATHS: Final = (
    # Pydantic's mypy plugin: read by mypy, never imported at run time.
    "pydantic/mypy.py",
    # The index backfill and the migration backfill: operators' commands (docs/backfill.md,
    # docs/schema-versions.md), run from a checkout, never by a function.
    *(
        f"pydantic_dynamo/{module}.py"
        for module in (
            "backfill",
            "checkpoint",
            "index_repair",
            "migrate",
            "progress",
            "rate_limit",
            "rewrites",
        )
    ),
    "records_service/backfill.py",
    "records_service/migrate.py",
    "aws_lambda_powertools/event_handler/middlewares/schema_validation.py",
    "aws_lambda_powertools/utilities/auth_alpha",
    "aws_lambda_powertools/utilities/circuit_breaker",
    "aws_lambda_powertools/utilities/data_masking",
    "aws_lambda_powertools/utilities/feature_flags",
    "aws_lambda_powertools/utilities/idempotency",
    "aws_lambda_powertools/utilities/kafka",
    "aws_lambda_powertools/utilities/metadata",
    "aws_lambda_powertools/utilities/parameters",
    "aws_lambda_powertools/utilities/streaming",
    # The X-Ray SDK's patches of libraries the functions do not use: the Tracer patches
    # botocore only (records_service.observability), and patch_all() skips a patch it cannot
    # import.
    *(
        f"aws_xray_sdk/ext/{library}"
        for library in (
            "aiobotocore",
            "bottle",
            "django",
            "flask",
            "flask_sqlalchemy",
            "httpx",
            "mysql",
            "pg8000",
            "psycopg",
            "psycopg2",
            "pymongo",
            "pymysql",
            "pynamodb",
            "requests",
            "sqlalchemy",
            "sqlalchemy_core",
            "sqlite3",
        )
    ),
    "aws_lambda_powertools/utilities/validation",
)
# Swagger UI's bundle, read only by ``enable_swagger()`` called without ``swagger_base_url``. No
# handler calls ``enable_swagger`` (the build refuses one that does).
PRUNED_ASSETS: Final = (
    "aws_lambda_powertools/event_handler/openapi/swagger_ui/swagger-ui-bundle.min.js",
    "aws_lambda_powertools/event_handler/openapi/swagger_ui/swagger-ui.min.css",
    # wrapt's C source, beside the extension compiled from it; pydantic-core's software bill of
    # materials (the layer's manifest lists what it holds).
    "wrapt/_wrappers.c",
    "pydantic_core-2.50.5.dist-info/sboms",
)
# Files of every package's dist-info that only installers read (pip's list of installed files,
# for uninstalling); importlib.metadata's versions and entry points do not need them.
PRUNED_DIST_INFO_FILES: Final = ("RECORD",)
SWAGGER_CALL: Final = "enable_swagger"
# The variables the handlers need to import (settings are validated at import); the rest of the
# environment is what ``layer.invocation`` sets as Lambda does, tracing included.
PROBE_ENVIRONMENT: Final = {
    names.ENV_POWERTOOLS_SERVICE_NAME: names.SERVICE_NAME,
    names.ENV_POWERTOOLS_METRICS_NAMESPACE: names.METRICS_NAMESPACE,
    names.ENV_TABLE_NAME: "layer-build-probe",
    names.ENV_EVENT_BUS_NAME: "layer-build-probe",
}
_IGNORED_PARTS: Final = frozenset({"__pycache__", ".mypy_cache", ".pytest_cache"})
IGNORED_SUFFIXES: Final = frozenset({".pyc", ".pyo"})


def handlers() -> tuple[tuple[str, str], ...]:
    """(code folder, handler string) of every function on the layer."""
    return (
        (names.API_CODE_DIR, names.API_HANDLER),
        *((route.code_dir, route.handler) for route in topology.QUEUE_ROUTES),
        (topology.STREAM_CONSUMER.code_dir, topology.STREAM_CONSUMER.handler),
    )


def source_files(root: Path) -> list[Path]:
    """Every file under ``root`` but caches and bytecode."""
    return [
        path
        for path in root.rglob("*")
        if path.is_file()
        and not _IGNORED_PARTS.intersection(path.relative_to(root).parts)
        and path.suffix not in IGNORED_SUFFIXES
    ]


def first_party_files() -> list[tuple[Path, Path]]:
    """(root, file) of every first-party file copied into the layer, sorted for a stable hash.

    The file's place in the layer is its path relative to its root (``pydantic_dynamo/...``).
    """
    files: list[tuple[Path, Path]] = []
    for package, root in PACKAGE_ROOTS.items():
        folder = root / package
        if not (folder / "__init__.py").is_file():
            raise LayerBuildError(f"{folder} is not a package (no __init__.py)")
        files.extend((root, path) for path in source_files(folder))
    return sorted(files, key=lambda pair: pair[1].relative_to(pair[0]).as_posix())


def handler_files() -> list[Path]:
    """Every file of the handlers' folders: what they import decides what is compiled."""
    return sorted(
        {path for code_dir, _ in handlers() for path in source_files(REPO_ROOT / code_dir)}
    )


def pruned_modules() -> list[str]:
    """The dotted names of the modules and packages ``PRUNED_PATHS`` removes."""
    return [path.removesuffix(".py").replace("/", ".") for path in PRUNED_PATHS]


def installer_files(python_dir: Path) -> list[Path]:
    """The ``PRUNED_DIST_INFO_FILES`` of every dist-info in ``python_dir``."""
    return sorted(
        path for name in PRUNED_DIST_INFO_FILES for path in python_dir.glob(f"*.dist-info/{name}")
    )
