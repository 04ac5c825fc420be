"""The register site in a real headless browser: it lists the certificates, its search narrows them, and a
certificate page renders; opened from file:// with the network unused."""

from __future__ import annotations

import base64
import json
import shutil
import tempfile
from pathlib import Path

import pytest

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    pytest.skip("no headless browser: install chromium and chromium-driver (make browser)", allow_module_level=True)

from selenium import webdriver  # noqa: E402  (a test dependency: installed by make test)
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402
from test_register import AT, make_sample, passing_report  # noqa: E402

from plugshare.certification import keys  # noqa: E402
from plugshare.certification.register import build  # noqa: E402


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("browser-register")
    sample = make_sample(root, passing_report(root / "report"))
    out = root / "site"
    build(sample.certs, out, keys.keyring(sample.keys_dir), revocations=sample.revocations, at=AT)
    return out, json.loads((out / "register.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def browser():
    profile = tempfile.mkdtemp(prefix="plugshare-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", "--window-size=1280,1000", f"--user-data-dir={profile}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def visible_rows(driver) -> list:
    return [row for row in driver.find_elements(By.CSS_SELECTOR, "#register tbody tr") if row.is_displayed()]


def shown_count(driver) -> str:
    return driver.find_element(By.ID, "shown").text


def search(driver, text: str) -> None:
    box = driver.find_element(By.ID, "search")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.BACKSPACE)
    if text:
        box.send_keys(text)


def wait_for_rows(driver, count: int) -> list:
    WebDriverWait(driver, 5).until(lambda d: len(visible_rows(d)) == count)
    return visible_rows(driver)


def problems_logged(driver) -> list[str]:
    """Console errors, which include any load the page's security policy refused."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def test_the_register_lists_every_certificate_and_the_search_narrows_them(browser, site):
    out, register = site
    listed = register["certificates"]
    total = len(listed)
    browser.get((out / "index.html").as_uri())
    assert browser.title == "Register of plugshare certified products"

    rows = wait_for_rows(browser, total)
    assert shown_count(browser) == f"{total} of {total}"
    suppliers = [row.find_elements(By.TAG_NAME, "td")[0].text for row in rows]
    assert suppliers == [entry["supplier"] or "" for entry in listed]
    statuses = [row.find_element(By.CSS_SELECTOR, ".badge").text for row in rows]
    words = {"valid": "Valid", "expired": "Expired", "revoked": "Revoked", "not_yet_valid": "Not yet valid",
             "not_authentic": "Not authentic"}
    assert statuses == [words[entry["status"]] for entry in listed]

    # one supplier, typed in another case
    search(browser, "civic SOFT")
    rows = wait_for_rows(browser, 1)
    assert "PeopleDesk" in rows[0].text and "Revoked" in rows[0].text
    assert shown_count(browser) == f"1 of {total}"

    # a status
    search(browser, "not authentic")
    expected = sum(entry["status"] == "not_authentic" for entry in listed)
    rows = wait_for_rows(browser, expected)
    assert all("Not authentic" in row.text for row in rows)
    assert shown_count(browser) == f"{expected} of {total}"

    # a certificate number, and a profile with a version
    number = next(e["number"] for e in listed if e["supplier"] == "Borough Systems")
    search(browser, number.lower())
    rows = wait_for_rows(browser, 1)
    assert "Borough Systems" in rows[0].text
    search(browser, "hr-core 4.2.0")
    rows = wait_for_rows(browser, sum(e["version"] == "4.2.0" and "hr-core" in e["profiles"] for e in listed))
    assert all("4.2.0" in row.text for row in rows)

    # nothing matches: the page says so
    search(browser, "no such supplier anywhere")
    wait_for_rows(browser, 0)
    assert shown_count(browser) == f"0 of {total}"
    assert browser.find_element(By.ID, "none").is_displayed()

    # cleared: every row is back
    search(browser, "")
    wait_for_rows(browser, total)
    assert shown_count(browser) == f"{total} of {total}"
    assert not browser.find_element(By.ID, "none").is_displayed()
    assert problems_logged(browser) == []


def test_the_register_loads_nothing_over_the_network(browser, site):
    out, _ = site
    browser.get((out / "index.html").as_uri())
    loaded = browser.execute_script(
        "return performance.getEntriesByType('resource').map(function (r) { return r.name; })")
    assert [url for url in loaded if not url.startswith("file:")] == []
    assert problems_logged(browser) == []


def test_a_certificate_page_opens_from_the_register_and_shows_how_to_verify(browser, site):
    out, register = site
    entry = next(e for e in register["certificates"] if e["supplier"] == "Acme Payroll Ltd")
    browser.get((out / "index.html").as_uri())
    search(browser, f"{entry['number']} acme payroll")  # the forgery claims the same number, under another supplier
    row = wait_for_rows(browser, 1)[0]
    row.find_element(By.LINK_TEXT, entry["number"]).click()
    WebDriverWait(browser, 5).until(lambda d: d.current_url.endswith(entry["page"]))

    assert entry["product"] in browser.find_element(By.TAG_NAME, "h1").text
    assert f"Status on {AT.isoformat()}: Valid" in browser.find_element(By.ID, "status").text
    command = browser.find_element(By.ID, "verify-command").text
    assert command.startswith(f"plugshare certify verify {entry['number']}.json --public-key issuer.pub")
    assert all(f"--profile {p}" in command for p in entry["profiles"])
    profiles = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#profiles li")]
    assert profiles == entry["profiles"]
    details = browser.find_element(By.ID, "details").text
    assert entry["expires_on"] in details and entry["supplier"] in details
    assert problems_logged(browser) == []


def test_printing_keeps_the_content_and_drops_the_search_box(browser, site):
    out, register = site
    entry = next(e for e in register["certificates"] if e["status"] == "revoked")
    try:
        browser.get((out / "index.html").as_uri())
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        assert not browser.find_element(By.ID, "search").is_displayed()
        assert len(visible_rows(browser)) == len(register["certificates"])
        browser.get((out / entry["page"]).as_uri())
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        status = browser.find_element(By.ID, "status")
        assert status.is_displayed() and status.text.startswith(f"Status on {AT.isoformat()}: Revoked")
        assert browser.find_element(By.ID, "verify-command").is_displayed()
        assert len(base64.b64decode(browser.print_page())) > 1000  # the browser prints it to a PDF
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
