"""The report of a small real run, opened in headless Chromium through selenium."""
import shutil

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from bench.report.html import build_report

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--window-size=1400,1800",
)


#: What to install when the browser is missing (the packages `.ci/run` installs).
INSTALL = "sudo apt-get update && sudo apt-get install chromium chromium-driver"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    missing = [program for program in ("chromium", "chromedriver") if shutil.which(program) is None]
    if missing:
        pytest.fail(f"the report's browser test needs {' and '.join(missing)} on PATH; install them: {INSTALL}", pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def opened_report(browser, small_run, tmp_path_factory):
    run_dir, originals = small_run
    output = build_report(run_dir, tmp_path_factory.mktemp("browser") / "report.html",
                          pairs=[("jpeg", "webp")], originals=originals)
    browser.get(output.as_uri())
    return browser


def test_no_console_errors_and_no_alert(opened_report, tmp_path):
    errors = [entry for entry in opened_report.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]
    assert errors == []
    with pytest.raises(NoAlertPresentException):
        opened_report.switch_to.alert.text
    screenshot = tmp_path / "report.png"
    assert opened_report.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 10_000


def test_plots_are_visible_and_decoded(opened_report):
    plots = opened_report.find_elements(By.CSS_SELECTOR, "#plots img")
    assert len(plots) == 3
    for plot in plots:
        assert plot.is_displayed()
        assert opened_report.execute_script("return arguments[0].naturalWidth", plot) > 300


def test_tables_are_visible(opened_report):
    for selector in ("table.bd", "table.compare", "table.published", "#per-image-table"):
        table = opened_report.find_element(By.CSS_SELECTOR, selector)
        assert table.is_displayed(), selector
        assert len(table.find_elements(By.CSS_SELECTOR, "tbody tr")) > 0, selector
    assert len(opened_report.find_elements(By.CSS_SELECTOR, "#per-image-table tbody tr")) == 12


def test_hostile_file_name_shows_as_text(opened_report, hostile_name):
    cells = opened_report.find_elements(By.XPATH, "//table[@id='per-image-table']//td[1]")
    assert sum(cell.text == hostile_name for cell in cells) == 6
    options = [option.text for option in Select(opened_report.find_element(By.ID, "viewer-image")).options]
    assert sorted(options) == sorted([hostile_name, "kodim02.png"])
    assert opened_report.find_elements(By.XPATH, "//script[contains(text(), 'alert(1)') and not(@id)]") == []


def test_viewer_shows_the_original_and_one_crop_per_codec(opened_report):
    Select(opened_report.find_element(By.ID, "viewer-image")).select_by_visible_text("kodim02.png")
    panels = opened_report.find_elements(By.CSS_SELECTOR, "#viewer-panels .panel")
    titles = [panel.find_element(By.TAG_NAME, "strong").text for panel in panels]
    assert titles == ["original", "jpeg", "webp"]
    for image in opened_report.find_elements(By.CSS_SELECTOR, "#viewer-panels img"):
        assert opened_report.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image) == 256


def test_viewer_panning_is_synchronized(opened_report):
    frames = opened_report.find_elements(By.CSS_SELECTOR, "#viewer-panels .frame")
    opened_report.execute_script("arguments[0].scrollLeft = 100; arguments[0].dispatchEvent(new Event('scroll'))", frames[0])
    assert [opened_report.execute_script("return arguments[0].scrollLeft", frame) for frame in frames] == [100] * len(frames)


def test_per_image_table_sorts_by_a_clicked_column(opened_report):
    header = opened_report.find_element(By.XPATH, "//table[@id='per-image-table']//th[text()='bpp']")
    column = int(header.get_attribute("data-column")) + 1
    header.click()
    values = [float(cell.text) for cell in opened_report.find_elements(By.XPATH, f"//table[@id='per-image-table']//td[{column}]")]
    assert values == sorted(values)
    header.click()
    values = [float(cell.text) for cell in opened_report.find_elements(By.XPATH, f"//table[@id='per-image-table']//td[{column}]")]
    assert values == sorted(values, reverse=True)
