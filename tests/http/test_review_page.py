"""OUT/review.html in a real headless browser (Debian's chromium + chromium-driver, driven by Selenium).

A small run goes through the loopback server; the page is opened from file://; an item is clicked (its sentences
highlighted and in view), the items are filtered by an actor, one item is rejected, one fixed and one added,
the verdicts are exported, and `summarizer eval` on the export counts them. The same test runs on the seed
article, on one with emoji (offsets count code points, JavaScript strings UTF-16 units) and on one whose title
and text contain `<script>` (it must stay text).

Set SUMMARIZER_REVIEW_SCREENSHOT=docs/review.png to save the seed article's review as the README's screenshot.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fixtures_lib import SEED, answer, by_article
from loopback import LoopbackServer
from loopback_cli import LoopbackCLI
from runs_lib import answer as small_answer
from runs_lib import results_in, run

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
    pytest.skip("needs Debian's chromium and chromium-driver (apt-get install -y chromium chromium-driver)",
                allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (pip install -e '.[dev]')")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1400,900")
EMOJI = ("---\ntitle: Emoji 🚀 budget 👩‍💼\ndate: 2024-05-02\n---\n"
         "Minister Jane Doe 👩‍💼 spoke in the capital 🏛️ on Monday. The marker is MARKER-EMOJI 😀 today. "
         "She said taxes 💸 will rise next year. She warned that the deficit 📉 could grow if parliament refuses.\n")
SCRIPT_TITLE = "</script><script>window.__pwned = 1</script> & <b>bold</b>"
SCRIPT = (f"---\ntitle: '{SCRIPT_TITLE}'\ndate: 2024-05-03\n---\n"
          "Minister Jane Doe spoke on Monday about <script>window.__pwned = 2</script> scripts. "
          "The marker is MARKER-SCRIPT <!-- <img src=x onerror=\"window.__pwned = 3\"> --> today. "
          "She said taxes will rise next year. She warned that the deficit could grow if parliament refuses.\n")
CASES: dict[str, tuple[str, str, dict[str, Any]]] = {  # name → (file, text, the model's answer)
    "seed": (SEED.name, SEED.read_text(encoding="utf-8"), answer("zelensky-north-korea")),
    "emoji": ("emoji.md", EMOJI, small_answer()),
    "script": ("script.md", SCRIPT, small_answer()),
}
KINDS = ("claims", "predictions", "warnings")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                               {"behavior": "allow", "downloadPath": str(tmp_path / "downloads")})
        yield driver
    finally:
        driver.quit()


def wait(driver: WebDriver, check: Callable[[WebDriver], Any], timeout: float = 10) -> Any:
    return WebDriverWait(driver, timeout).until(check)


def in_view(driver: WebDriver, node: WebElement) -> bool:
    return bool(driver.execute_script(
        "var r = arguments[0].getBoundingClientRect(), b = document.getElementById('text').getBoundingClientRect();"
        "return r.top >= b.top - 1 && r.bottom <= b.bottom + 1 && r.top >= 0 && r.bottom <= window.innerHeight;",
        node))


def card(driver: WebDriver, kind: str, item: dict[str, Any]) -> WebElement:
    return driver.find_element(By.CSS_SELECTOR, f'.item[data-key="{kind}:{item["id"]}"]')


def items_of(result: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(kind, item) for kind in KINDS for item in result[kind]]


def sentences(item: dict[str, Any]) -> list[int]:
    return [s["sentence"] for s in item["evidence"]["sentences"]]


@pytest.mark.parametrize("case", list(CASES))
def test_review_page_in_a_real_browser(case: str, tmp_path: Path, loopback: LoopbackServer,
                                       cli_in_process: LoopbackCLI, browser: WebDriver) -> None:
    name, text, reply = CASES[case]
    inputs, out = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    (inputs / name).write_text(text, encoding="utf-8")
    loopback.responder = by_article({"Zelensky" if case == "seed" else f"MARKER-{case.upper()}": reply})
    report = run(loopback, [inputs], out)
    assert report.ok == 1 and not report.failures
    [result_path] = results_in(out)
    result = json.loads(result_path.read_text(encoding="utf-8"))
    page = out / "review.html"
    assert page.is_file()

    # Open from file://: the list is rendered, and the article opens with every item as a card.
    browser.get(page.resolve().as_uri())
    wait(browser, lambda d: d.execute_script("return window.summarizerReview && window.summarizerReview.ready"))
    browser.find_element(By.CSS_SELECTOR, '.entry[data-i="0"]').click()
    title = browser.find_element(By.ID, "article-title").text
    assert title == (result["article"]["title"] or result_path.stem)
    everything = items_of(result)
    assert len(browser.find_elements(By.CSS_SELECTOR, ".item[data-key]")) == len(everything)
    shown = browser.execute_script("return document.getElementById('text').textContent")
    assert shown == result["article"]["text"]  # the whole text, literally (sentence numbers are CSS only)

    # Click the item cited furthest down: its sentences are highlighted, equal to the evidence, and in view.
    kind, item = max(everything, key=lambda p: max(sentences(p[1])))
    card(browser, kind, item).find_element(By.CSS_SELECTOR, ".st").click()
    for span in item["evidence"]["sentences"]:
        node = browser.find_element(By.CSS_SELECTOR, f'#text .sent[data-n="{span["sentence"]}"]')
        assert "active" in node.get_attribute("class").split()
        assert node.text.replace("\n", "") == span["text"].replace("\n", "")  # code points, not UTF-16 units
        assert browser.execute_script("return arguments[0].textContent", node) == span["text"]
    first = browser.find_element(By.CSS_SELECTOR, f'#text .sent[data-n="{sentences(item)[0]}"]')
    assert in_view(browser, first)
    assert {n.get_attribute("data-n") for n in browser.find_elements(By.CSS_SELECTOR, "#text .sent.active")} == {
        str(n) for n in sentences(item)}

    # Click a highlighted sentence: the items that cite it are marked.
    cited = sentences(everything[0][1])[0]
    browser.find_element(By.CSS_SELECTOR, f'#text .sent[data-n="{cited}"]').click()
    marked = {n.get_attribute("data-key") for n in browser.find_elements(By.CSS_SELECTOR, ".item.active")}
    assert marked == {f"{k}:{i['id']}" for k, i in everything if cited in sentences(i)}

    # Filter by an actor: only that actor's items remain; then every speaker again.
    speaker = next(i["actor_id"] for _, i in everything if i["actor_id"])
    Select(browser.find_element(By.ID, "actor-filter")).select_by_value(speaker)
    kept = {n.get_attribute("data-key") for n in browser.find_elements(By.CSS_SELECTOR, ".item[data-key]")}
    assert kept == {f"{k}:{i['id']}" for k, i in everything if i["actor_id"] == speaker}
    Select(browser.find_element(By.ID, "actor-filter")).select_by_value("")

    # Review: accept the rest after rejecting one item and fixing another's speaker; add a missed item.
    rejected = everything[0]
    fixed = next((k, i) for k, i in everything if i["actor_id"] and (k, i) != rejected and not any(
        set(sentences(i)) & set(sentences(o)) for ko, o in everything if (ko, o) != (k, i)))
    card(browser, *rejected).find_element(By.CSS_SELECTOR, "button.reject").click()
    assert "rejected" in card(browser, *rejected).get_attribute("class").split()
    fix_card = card(browser, *fixed)
    Select(fix_card.find_element(By.CSS_SELECTOR, 'select[aria-label="speaker"]')).select_by_value("article")
    fix_card.find_element(By.CSS_SELECTOR, "button.fix").click()
    browser.find_element(By.ID, "accept-rest").click()
    uncited = min(set(range(1, result["article"]["sentences"] + 1)) - {n for _, i in everything
                                                                       for n in sentences(i)})
    browser.find_element(By.ID, "add-item").click()
    browser.find_element(By.CSS_SELECTOR, f'#text .sent[data-n="{uncited}"]').click()
    assert browser.find_element(By.ID, "add-statement").get_attribute("value")  # filled with the sentence
    browser.find_element(By.ID, "add-save").click()
    assert browser.find_element(By.CSS_SELECTOR, '.item.added[data-key="added:0"]')
    assert "kx" in browser.find_element(By.CSS_SELECTOR, f'#text .sent[data-n="{uncited}"]').get_attribute("class")

    # The verdicts survive a reload (localStorage).
    browser.refresh()
    wait(browser, lambda d: d.execute_script("return window.summarizerReview && window.summarizerReview.ready"))
    browser.find_element(By.CSS_SELECTOR, '.entry[data-i="0"]').click()
    assert "rejected" in card(browser, *rejected).get_attribute("class").split()
    assert "reviewed " in browser.find_element(By.CSS_SELECTOR, '.entry[data-i="0"]').text

    if case == "seed" and (target := os.environ.get("SUMMARIZER_REVIEW_SCREENSHOT")):
        card(browser, kind, item).find_element(By.CSS_SELECTOR, ".st").click()
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(target)

    # Export: a download, and the same JSON in the page's export box.
    browser.find_element(By.ID, "export").click()
    download = tmp_path / "downloads" / "review-gold.json"
    deadline = time.monotonic() + 10
    while not download.is_file() and time.monotonic() < deadline:
        time.sleep(0.1)
    exported = download.read_text(encoding="utf-8")
    assert json.loads(exported) == json.loads(browser.find_element(By.ID, "export-box").get_attribute("value"))
    [gold] = json.loads(exported)
    assert gold["article_id"] == result["article"]["id"] and gold["text"] == result["article"]["text"]
    assert "1 fixed, 1 rejected, 1 added; 0 items without a verdict" in gold["_origin"]

    if case == "script":  # nothing from the article ran, and its markup was shown as text
        assert browser.execute_script("return typeof window.__pwned") == "undefined"
        assert "<script>window.__pwned = 2</script>" in shown and "<!-- <img" in shown
        assert title == SCRIPT_TITLE
        assert not browser.find_elements(By.CSS_SELECTOR, "#view b, #view img, #view script")

    # `summarizer eval` takes the export as gold (no --articles: it carries the text) and counts the verdicts.
    report_path = tmp_path / "eval.json"
    done = cli_in_process("eval", download, out, "--json", report_path)
    assert done.returncode == 0, done.stderr
    totals = json.loads(report_path.read_text(encoding="utf-8"))["totals"]
    n = len(everything)
    assert (totals["any_kind"]["gold"], totals["any_kind"]["predicted"], totals["any_kind"]["matched"]) == (
        n, n, n - 1)  # n - 1 kept (accepted or fixed) + 1 added; the rejected item is predicted, not gold
    kinds = {k: sum(1 for kk, _ in everything if kk == k) for k in KINDS}
    for k in KINDS:
        expected_gold = kinds[k] - (rejected[0] == k) + (k == "claims")  # the added item is a claim
        assert (totals[k]["gold"], totals[k]["predicted"], totals[k]["matched"]) == (
            expected_gold, kinds[k], kinds[k] - (rejected[0] == k))
    k = fixed[0]
    assert totals[k]["attributed"] == totals[k]["matched"] - 1  # the fixed speaker is the one attribution miss
    assert totals["actors"]["recall"] == 1.0


def test_summarizer_review_rebuilds_the_page(tmp_path: Path, loopback: LoopbackServer,
                                             cli_in_process: LoopbackCLI) -> None:
    inputs, out = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    shutil.copy(SEED, inputs / SEED.name)
    loopback.responder = by_article({"Zelensky": answer("zelensky-north-korea")})
    assert run(loopback, [inputs], out).ok == 1
    (out / "review.html").unlink()
    done = cli_in_process("review", out)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out / "review.html") and (out / "review.html").is_file()
    assert cli_in_process("review", tmp_path / "missing").returncode == 2
