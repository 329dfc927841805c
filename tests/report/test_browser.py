"""The report of a small real run, opened in headless Chromium through selenium."""
import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from bench.report.html import build_report

from browser_helpers import start_chromium


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def opened_report(browser, small_run, tmp_path_factory):
    run_dir, originals = small_run
    output = build_report(run_dir, tmp_path_factory.mktemp("browser") / "report.html",
                          groups=[[("jpeg", "webp")]], originals=originals)
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


def test_the_first_screen_shows_the_verdict(opened_report, tmp_path):
    opened_report.execute_script("window.scrollTo(0, 0)")
    verdict = opened_report.find_element(By.CSS_SELECTOR, "#verdict table.verdict-table")
    top, bottom = opened_report.execute_script(
        "var box = arguments[0].getBoundingClientRect(); return [box.top, box.bottom]", verdict)
    assert 0 < top and bottom < opened_report.execute_script("return window.innerHeight")
    rows = verdict.find_elements(By.CSS_SELECTOR, "tbody tr")
    assert [row.find_element(By.TAG_NAME, "td").text.splitlines()[0] for row in rows] == ["PSNR", "MS-SSIM"]
    assert rows[0].find_element(By.CSS_SELECTOR, "ol li").text.startswith("webp ")  # the only codec against the jpeg anchor
    assert opened_report.save_screenshot(str(tmp_path / "first-screen.png"))


def test_the_interactive_plots_render_with_one_curve_per_codec(opened_report):
    plots = opened_report.find_elements(By.CSS_SELECTOR, "#plots div.plot")
    assert [plot.get_attribute("data-label") for plot in plots] == ["PSNR", "MS-SSIM", "MS-SSIM (dB)"]
    for plot in plots:
        assert plot.is_displayed()
        assert len(plot.find_elements(By.CSS_SELECTOR, "svg.main-svg g.scatterlayer g.trace.scatter")) >= 2
        legend = [item.get_attribute("textContent") for item in plot.find_elements(By.CSS_SELECTOR, "g.legend g.traces text.legendtext")]
        assert legend[:2] == ["jpeg", "webp"]
        # The run is on Kodak: published Kodak numbers follow, in their own legend group.
        assert legend[2] == "published" and len(legend) > 3 and all(name.endswith(" (published)") for name in legend[3:])


def test_clicking_a_legend_entry_hides_its_curve(opened_report):
    plot = opened_report.find_element(By.CSS_SELECTOR, "#plots div.plot")
    visible = ("return arguments[0].data.filter(function (t) { return t.meta !== 'band' && t.legendgroup !== 'published'; })"
               ".map(function (t) { return t.visible === undefined ? true : t.visible; })")
    assert opened_report.execute_script(visible, plot) == [True, True]
    # In the middle of the window, clear of the sticky contents bar.
    opened_report.execute_script("arguments[0].scrollIntoView({block: 'center'})", plot)
    webp = [item for item in plot.find_elements(By.CSS_SELECTOR, "g.legend g.traces") if item.get_attribute("textContent") == "webp"][0]
    # plotly waits for a possible double-click before it acts on a click.
    wait = WebDriverWait(opened_report, 5)
    webp.find_element(By.CSS_SELECTOR, "rect.legendtoggle").click()
    wait.until(lambda driver: driver.execute_script(visible, plot) == [True, "legendonly"])
    webp.find_element(By.CSS_SELECTOR, "rect.legendtoggle").click()
    wait.until(lambda driver: driver.execute_script(visible, plot) == [True, True])


def test_tables_are_visible(opened_report):
    for details in opened_report.find_elements(By.CSS_SELECTOR, "details#published-details, details#per-image-details"):
        assert not details.get_attribute("open")  # long tables start collapsed
        opened_report.execute_script("arguments[0].open = true", details)
    for selector in ("table.matrix", "table.compare", "table.published", "#per-image-table"):
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


def test_a_codec_name_with_html_in_it_is_text_in_plots_and_tables(browser, small_run, tmp_path):
    import pandas as pd

    run_dir, originals = small_run
    hostile = "<img src=x onerror=alert(2)>webp"
    renamed = tmp_path / "renamed-run"
    renamed.mkdir()
    table = pd.read_parquet(run_dir / "results.parquet").replace({"codec": {"webp": hostile}})
    table.to_parquet(renamed / "results.parquet", index=False)
    for name in ("metrics.json", "metadata.json"):
        (renamed / name).write_bytes((run_dir / name).read_bytes())
    output = build_report(renamed, tmp_path / "report.html", originals=originals)
    browser.get(output.as_uri())

    legend = browser.find_elements(By.CSS_SELECTOR, "#plots div.plot g.legend g.traces text.legendtext")
    assert hostile in [item.get_attribute("textContent") for item in legend]
    matrix_codecs = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "table.matrix tbody td:first-child")]
    assert matrix_codecs == [hostile]
    assert browser.execute_script("return document.querySelectorAll('img[src=\"x\"]').length") == 0
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text
