"""The API documentation page in headless Chromium: it renders every route, offline.

Swagger UI comes from the ``swagger-ui-dist`` npm package and reads the API's
``/openapi.json``; the test checks that the rendered page lists each path of the document,
that the browser fetched nothing from anywhere but the stack, and saves a screenshot.
Chromium and chromedriver come from Debian (``make setup`` installs them when missing).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.stack_process import RunningStack

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
RENDER_TIMEOUT_SECONDS = 30
# The handbook's flags: no sandbox as root, and no background traffic to a closed network.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,2400",
)


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[webdriver.Chrome]:
    """Headless Chromium driven through chromedriver, with a fresh profile."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not shutil.which(path)]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not installed: run `make setup` "
            "(apt-get install -y chromium chromium-driver)"
        )
    monkeypatch.setenv("SE_OFFLINE", "true")  # never let Selenium Manager download a driver
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(RENDER_TIMEOUT_SECONDS)
    try:
        yield driver
    finally:
        driver.quit()


def test_the_docs_page_renders_every_route_without_leaving_the_machine(
    local_stack: RunningStack, browser: webdriver.Chrome, tmp_path: Path
) -> None:
    document = requests.get(f"{local_stack.api_url}/openapi.json", timeout=30).json()
    paths = set(document["paths"])
    assert {"/records/actor", "/records/actor/item", "/health"} <= paths

    browser.get(f"{local_stack.api_url}/docs")

    def rendered_paths(driver: webdriver.Chrome) -> set[str] | None:
        shown = {
            element.text.replace("\u200b", "").strip()
            for element in driver.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")
        }
        return shown if paths <= shown else None

    shown = WebDriverWait(browser, RENDER_TIMEOUT_SECONDS).until(rendered_paths)
    screenshot = tmp_path / "docs.png"
    assert browser.save_screenshot(str(screenshot))
    print(f"screenshot: {screenshot}")

    assert shown is not None
    assert paths <= shown
    assert "Records API" in browser.find_element(By.CSS_SELECTOR, ".info .title").text
    fetched = browser.execute_script(
        "return performance.getEntriesByType('resource').map(entry => entry.name)"
    )
    assert fetched, "the page loaded no resources at all"
    outside = [url for url in fetched if not url.startswith(local_stack.api_url)]
    assert outside == [], f"the page fetched from elsewhere: {outside}"
    assert screenshot.stat().st_size > 20_000
