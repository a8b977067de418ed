"""The reports in a real headless browser: they render, every image loads,
no console error, no network access (Chromium from Debian, driven by Playwright)."""

import shutil
from pathlib import Path

import pytest

from neuromark.pipeline import make_config, run_pipeline

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# flags for a closed network and a root user (CI), as Debian's Chromium needs
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"
)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


def _open(browser, path, screenshot):
    """Load a page; return its console errors, failed and outside requests."""
    page = browser.new_page()
    errors, outside = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def route(request_route):
        url = request_route.request.url
        if url.startswith(("file:", "data:")):
            request_route.continue_()
        else:  # the reports are self-contained: nothing may leave the machine
            outside.append(url)
            request_route.abort()

    page.route("**/*", route)
    page.goto(Path(path).as_uri(), wait_until="load")
    images = page.evaluate(
        "Array.from(document.images)"
        ".map(i => [i.alt, i.complete && i.naturalWidth > 0])"
    )
    headings = page.evaluate(
        "Array.from(document.querySelectorAll('h2')).map(h => h.textContent)"
    )
    width = page.evaluate("document.documentElement.scrollWidth")
    page.screenshot(path=str(screenshot), full_page=True)
    page.close()
    return {
        "errors": errors,
        "outside": outside,
        "images": images,
        "headings": headings,
        "width": width,
    }


def test_group_report_and_participant_page_render(study_root, tmp_path, browser):
    result = run_pipeline(
        make_config(bids_root=study_root, output_dir=tmp_path / "out", n_jobs=2)
    )
    out = result["output_dir"]
    group = _open(browser, out / "report.html", tmp_path / "report.png")
    assert not group["errors"] and not group["outside"]
    assert len(group["images"]) >= 6
    assert all(loaded for _, loaded in group["images"]), group["images"]
    assert "Participant QC pages" in group["headings"]
    assert (tmp_path / "report.png").stat().st_size > 10_000
    page = _open(browser, out / "participants" / "sub-01.html", tmp_path / "sub-01.png")
    assert not page["errors"] and not page["outside"]
    assert all(loaded for _, loaded in page["images"]), page["images"]
    assert (tmp_path / "sub-01.png").stat().st_size > 5_000
    # MRIQC-like pages: primary result first, contents, methods; per recording
    # the channel spectra, topomaps, carpet plot and the regions with a PAG zoom
    assert group["headings"][0] == "Primary results"
    assert "Methods" in group["headings"]
    for session in ("pre", "post"):
        assert f"fMRI {session}: motion and carpet plot" in page["headings"]
        assert f"fMRI {session}: regions" in page["headings"]
    alts = " ".join(alt for alt, _ in page["images"])
    for caption in ("Spectrum of every channel", "over the scalp", "carpet plot"):
        assert caption in alts
    # long QC values wrap: no page scrolls sideways far beyond the window
    assert group["width"] <= 2 * 1280 and page["width"] <= 2 * 1280, (
        group["width"],
        page["width"],
    )
