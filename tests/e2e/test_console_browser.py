"""The operator console in a real headless browser (Debian's chromium through its chromedriver) against the real
server with the sample world: a pair opened through the admin service, a change request waiting for a second
operator and the kill switch pulled each show within one refresh of the page; a screenshot is kept as a test
artifact (build/test-artifacts, or $COPAY_TEST_ARTIFACTS), not committed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from gateway._proto.copay.v1 import admin_pb2 as apb
from gateway.console import page
from tests.e2e.conftest import start_gateway
from tests.e2e.test_console import ask_opening, rid
from tests.e2e.world import T, admin, set_pair

pytestmark = pytest.mark.e2e
ARTIFACTS = Path(os.environ.get("COPAY_TEST_ARTIFACTS", Path(__file__).parents[2] / "build" / "test-artifacts"))


def _browser():  # type: ignore[no-untyped-def]
    missing = [p for p in ("/usr/bin/chromium", "/usr/bin/chromedriver") if not Path(p).exists()]
    if missing or not shutil.which("chromium"):
        message = f"the browser test needs Debian's chromium and chromium-driver ({', '.join(missing)} missing)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: .ci/run installs them)")
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1400,2400"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)


def _within_a_refresh(driver, probe) -> str:  # type: ignore[no-untyped-def]
    """What ``probe(driver)`` reads once it is truthy, waiting at most one refresh of the page (and a second).
    The page reloads itself every few seconds: a read that meets the reload (an element gone, or chromedriver's
    "Node with given id does not belong to the document") is tried again, so every read of the page goes
    through here."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, page.REFRESH_SECONDS + 2, poll_frequency=0.2,
                         ignored_exceptions=(WebDriverException,)).until(probe)


def test_a_browser_sees_a_pair_opened_the_kill_switch_pulled_and_a_pending_change(pki, tmp_path):
    from selenium.webdriver.common.by import By

    driver = _browser()  # first: a machine without a browser skips (or fails) with no gateway left running
    try:
        gateway = start_gateway(pki, f"sqlite:///{tmp_path / 'copay.db'}", tmp_path)
    except BaseException:
        driver.quit()
        raise
    try:
        driver.get(f"http://127.0.0.1:{gateway.console_port}/")
        cell = lambda pair: lambda d: d.find_element(By.CSS_SELECTOR, f'#pairs td[data-pair="{pair}"]').text
        banner = lambda d: d.find_element(By.ID, "kill-switch").text
        assert _within_a_refresh(driver, lambda d: cell("11-13")(d).startswith("CLOSED"))
        assert _within_a_refresh(driver, lambda d: "not pulled" in banner(d))
        set_pair(gateway, "11", "13", True, limits_preset="wallet-2025")  # through the admin service
        pending = ask_opening(gateway, "45", "44")
        opened = _within_a_refresh(driver, lambda d: (text := cell("11-13")(d)).startswith("OPEN") and text)
        assert "3 a day per beneficiary" in opened
        assert _within_a_refresh(driver, lambda d: pending.name in d.find_element(By.ID, "changes").text)
        admin(gateway).SetKillSwitch(apb.SetKillSwitchRequest(request_id=rid("kill"), pulled=True,
                                                              reason="console drill"), timeout=T)
        pulled = _within_a_refresh(driver, lambda d: "PULLED" in (text := banner(d)) and text)
        assert "operator/ops" in pulled
        assert _within_a_refresh(driver, lambda d: cell("11-13")(d).startswith("STOPPED"))
        assert _within_a_refresh(driver, lambda d: "KILL SWITCH PULLED" in d.title)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = ARTIFACTS / "console.png"
        assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    finally:
        driver.quit()
        gateway.stop()


