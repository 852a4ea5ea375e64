import os
import shutil

import pytest
import torch

os.environ.setdefault("INR_PROGRESS", "0")


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def playwright_session():
    """One Playwright for the whole run: the sync API allows only one at a time in a thread, so
    every browser test (site, JupyterLab, page trainer) shares it."""
    if chromium_path() is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; scripts/setup.sh installs it as root")
        pytest.skip("chromium not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


def chromium_path():
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def chromium(playwright_session):
    """Debian's Chromium driven by Playwright (never a browser download); CI must have it."""
    b = playwright_session.chromium.launch(executable_path=chromium_path(), args=[
        "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
    yield b
    b.close()
