"""A rater in headless Chromium: open the invite link, answer with the keyboard, reload, go on."""
from __future__ import annotations

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from bench.study.store import AnswerStore

from browser_helpers import start_chromium
from study_helpers import HOSTILE_NAME


@pytest.fixture
def browser(tmp_path_factory):
    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"), window="1400,900")
    yield driver
    driver.quit()


def wait_ready(browser, previous: str | None = None) -> str:
    """The slot shown once its three images have loaded (a new one when ``previous`` is given)."""
    WebDriverWait(browser, 15).until(lambda b: b.execute_script(
        "return document.body.dataset.state === 'ready' && document.body.dataset.slot !== arguments[0]", previous))
    return browser.execute_script("return document.body.dataset.slot")


def press(browser, key: str) -> None:
    browser.find_element(By.TAG_NAME, "body").send_keys(key)


def test_a_rater_answers_with_keys_reloads_and_continues(make_study, serve, browser, tmp_path):
    study = make_study(trials_per_rater=12, repeats=2, golds=2)
    with AnswerStore(study.path) as store:
        [(index, token)] = store.add_raters(1)
    server = serve(study.path)
    sequence = study.sequence(index)
    browser.get(f"{server.url}/r/{token}")
    chosen: dict[str, str] = {}
    names: dict[str, str] = {}
    slot = wait_ready(browser)
    assert browser.find_element(By.ID, "question").text == study.spec["question"]

    # Zoom and pan move the three images together; flicker shows A and B in one place.
    press(browser, "+")
    transforms = browser.execute_script("return [...document.querySelectorAll('.view img')].map(i => i.style.transform)")
    assert len(set(transforms)) == 1 and "scale(1.25)" in transforms[0]
    press(browser, "f")
    assert not browser.find_element(By.ID, "pane-right").is_displayed()
    first = browser.find_element(By.CSS_SELECTOR, "#pane-left img").get_attribute("src")
    press(browser, " ")
    assert browser.find_element(By.CSS_SELECTOR, "#pane-left img").get_attribute("src") != first
    assert browser.find_element(By.CSS_SELECTOR, "#pane-left figcaption").text == "B"
    press(browser, "s")
    assert browser.find_element(By.ID, "pane-right").is_displayed()

    for k in range(12):
        if k == 7:
            browser.refresh()
            slot = wait_ready(browser)
            assert browser.find_element(By.ID, "progress-text").text == f"8 / {len(sequence)}"
        assert slot == next(s.id for s in sequence if s.id not in chosen)  # resumes at the first unanswered slot
        names[slot] = browser.find_element(By.ID, "image-name").text
        key, choice = ("1", "left") if k % 3 else ("\ue014", "right")  # "1", or the right arrow key
        press(browser, key)
        chosen[slot] = choice
        slot = wait_ready(browser, slot)

    with AnswerStore(study.path) as store:
        answers = store.answers()
    assert dict(zip(answers["slot"], answers["choice"])) == chosen and set(answers["rater"]) == {index}
    sides = {s.id: s for s in sequence}
    assert all(row.chosen == getattr(sides[row.slot], row.choice) for row in answers.itertuples())
    assert (answers["response_ms"] > 0).all()

    # Image names are text, never markup (one is HOSTILE_NAME); nothing went wrong in the console.
    assert names == {slot: sides[slot].image for slot in chosen} and HOSTILE_NAME in names.values()
    assert browser.execute_script("return document.querySelectorAll('img[src=\"x\"]').length") == 0
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    assert browser.save_screenshot(str(tmp_path / "study.png"))
