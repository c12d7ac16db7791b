"""The API documentation page: Swagger UI from the ``swagger-ui-dist`` npm package, no CDN.

The page at ``/docs`` loads its scripts and styles from ``/docs/<asset>``, files served
straight from ``node_modules/swagger-ui-dist`` (pinned in ``package.json``, installed by
``make setup``), and reads the API's own ``/openapi.json``; it works with no network.

>>> from local_stack import config
>>> page = DocsPage(config.SWAGGER_UI_DIR)
>>> page.asset("../package.json") is None  # only plain file names inside the package
True
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

DOCS_PATH: Final = "/docs"
OPENAPI_PATH: Final = "/openapi.json"

_ASSET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_CONTENT_TYPES: Final = {
    ".js": "application/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".html": "text/html; charset=utf-8",
    ".map": "application/json",
    ".json": "application/json",
}
_REQUIRED_ASSETS: Final = ("swagger-ui.css", "swagger-ui-bundle.js")

_PAGE: Final = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Records API (local stack)</title>
  <link rel="stylesheet" href="{docs}/swagger-ui.css">
  <link rel="icon" type="image/png" href="{docs}/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{docs}/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({{
      url: "{openapi}",
      dom_id: "#swagger-ui",
      deepLinking: true,
      validatorUrl: null,
      presets: [SwaggerUIBundle.presets.apis],
      layout: "BaseLayout"
    }});
  </script>
</body>
</html>
"""

_MISSING: Final = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>API docs unavailable</title></head>
<body>
  <h1>Swagger UI assets not found</h1>
  <p>Expected the <code>swagger-ui-dist</code> npm package in <code>{folder}</code>.
  Run <code>make setup</code> (it runs <code>npm ci</code>) and reload.</p>
  <p>The OpenAPI document itself is at <a href="{openapi}">{openapi}</a>.</p>
</body></html>
"""


class DocsPage:
    """Serves the Swagger UI page and its assets from one ``swagger-ui-dist`` folder."""

    def __init__(self, assets_dir: Path) -> None:
        self.assets_dir = assets_dir

    @property
    def available(self) -> bool:
        """Whether the assets the page needs are installed."""
        return all((self.assets_dir / name).is_file() for name in _REQUIRED_ASSETS)

    def page(self) -> tuple[int, bytes]:
        """The status and HTML of ``/docs``: 503 with the fix when the assets are missing."""
        if not self.available:
            html = _MISSING.format(folder=self.assets_dir, openapi=OPENAPI_PATH)
            return 503, html.encode()
        return 200, _PAGE.format(docs=DOCS_PATH, openapi=OPENAPI_PATH).encode()

    def asset(self, name: str) -> tuple[bytes, str] | None:
        """The bytes and content type of one package file, or ``None`` if there is none."""
        if not _ASSET_NAME.match(name):
            return None
        path = self.assets_dir / name
        if not path.is_file():
            return None
        content_type = _CONTENT_TYPES.get(path.suffix, "application/octet-stream")
        return path.read_bytes(), content_type
