"""Headless Chromium driven by selenium, for the browser tests (the flags ENVIRONMENT.md lists)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
)

#: What to install when the browser is missing (the packages `.ci/run` installs).
INSTALL = "sudo apt-get update && sudo apt-get install chromium chromium-driver"


def start_chromium(profile: Path, window: str = "1400,1800") -> webdriver.Chrome:
    """A headless Chromium with a fresh profile in ``profile``, logging the page's console."""
    missing = [program for program in ("chromium", "chromedriver") if shutil.which(program) is None]
    if missing:
        pytest.fail(f"the browser tests need {' and '.join(missing)} on PATH; install them: {INSTALL}", pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--window-size={window}")
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
