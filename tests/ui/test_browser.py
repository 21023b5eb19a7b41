"""dlw ui in headless Chromium (Selenium with Debian's chromium-driver): two tiny trained runs, a real server."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import dlworkflow
from dlworkflow.cli import app

from .server import running_server

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[str], str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('ui_browser')}/registry.db"
    runs = [dlworkflow.run(EXAMPLES / "weather_small.toml", registry=url, quiet=True, train__epochs=epochs)
            for epochs in (2, 3)]
    return url, [run.id for run in runs], runs[0].record["primary"]["baseline"]


@pytest.fixture(scope="module")
def server(trained: tuple[str, list[str], str]) -> Iterator[str]:
    with running_server(trained[0]) as address:
        yield address


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver is None:
        pytest.skip("needs the Debian packages chromium and chromium-driver")
    webdriver = pytest.importorskip("selenium.webdriver")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1300,1000"):
        options.add_argument(argument)
    session = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver))
    try:
        yield session
    finally:
        session.quit()


def colours_of_screenshot(browser) -> int:
    from PIL import Image

    picture = Image.open(io.BytesIO(browser.get_screenshot_as_png())).convert("RGB")
    return len(set(picture.getdata()))


def wait_for(browser, script: str, seconds: float = 20):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, seconds).until(lambda session: session.execute_script(script))


def test_the_leaderboard_shows_the_runs_and_their_baseline(browser, server, trained):
    browser.get(server + "/")
    table = browser.find_element("css selector", "section.leaderboard table").text
    assert all(run_id in table for run_id in trained[1])
    assert "weather_small" in table and trained[2] in table  # the best baseline's name, beside each run
    assert colours_of_screenshot(browser) > 20  # not blank


def test_a_comment_added_on_the_page_appears_in_dlw_runs(browser, server, trained):
    url, (first, _), _ = trained
    browser.get(f"{server}/runs/{first}")
    assert wait_for(browser, "return document.querySelector('.charts canvas') !== null")  # the curves drawn
    assert colours_of_screenshot(browser) > 20
    browser.find_element("css selector", "#add-comment textarea").send_keys("noted in the browser <b>")
    browser.find_element("css selector", "#add-comment button").click()
    wait_for(browser, "return location.hash === '#comments'")
    assert "noted in the browser <b>" in browser.find_element("css selector", "#comments").text
    listed = CliRunner().invoke(app, ["runs", "--registry", url, "--json"])
    assert {row["id"]: row["comments"] for row in json.loads(listed.stdout)}[first] == "noted in the browser <b>"


def test_the_compare_page_draws_two_curves(browser, server, trained):
    browser.get(f"{server}/compare?runs={','.join(trained[1])}")
    wait_for(browser, "return document.querySelector('#compare-curves canvas') !== null")
    labels = browser.execute_script(
        "return [...document.querySelectorAll('#compare-curves .chart')[0].querySelectorAll('.u-legend .u-label')]"
        ".map(e => e.textContent)")
    assert sum(trained[1][0] in label for label in labels) >= 1 and sum(trained[1][1] in label for label in labels) >= 1
    assert colours_of_screenshot(browser) > 20
