"""The strict book build, and each chapter page checked in headless Chromium."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# INR_BOOK_OUT builds the site elsewhere (jupyter-book's --path-output), leaving _build alone.
OUT = Path(os.environ.get("INR_BOOK_OUT", ROOT))
HTML = OUT / "_build" / "html"
CHAPTERS = sorted(p.stem for p in (ROOT / "chapters").glob("*.ipynb"))


@pytest.fixture(scope="module")
def site():
    jb = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run([str(jb), "build", str(ROOT), "-W", "-n", "--keep-going",
                             *(["--path-output", str(OUT)] if OUT != ROOT else [])],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return HTML


def test_build_is_strict_and_complete(site):
    assert (site / "index.html").exists()
    for stem in CHAPTERS:
        assert (site / "chapters" / f"{stem}.html").exists(), stem


@pytest.fixture(scope="module")
def browser(site, chromium):
    return chromium


def output_problems(page) -> list:
    """What a reader would see go wrong in a page's cell outputs: tracebacks, error text, stderr."""
    problems = []
    outputs = page.locator(".cell_output").all_inner_texts()
    for kind in ("traceback", "stderr"):
        if page.locator(f".output.{kind}").count():
            problems.append(f"{page.locator(f'.output.{kind}').count()} {kind} output(s)")
    for text in outputs:
        for word in ("Traceback (most recent call last)", "Error: ", "Error\n"):
            if word in text:
                problems.append(f"output shows {word.strip()!r}: {text[:120]!r}")
    return problems


def test_output_check_finds_an_error_output(chromium, tmp_path):
    # The markup myst-nb gives an error output and a stderr stream.
    page = chromium.new_page()
    bad = tmp_path / "bad.html"
    bad.write_text('<article><div class="cell_output docutils container">'
                   '<div class="output traceback highlight-ipythontb notranslate"><pre>'
                   "ValueError: fit needs a target</pre></div></div>"
                   '<div class="cell_output docutils container"><div class="output stderr">'
                   "<pre>warning</pre></div></div></article>")
    page.goto(bad.as_uri())
    found = output_problems(page)
    assert any("traceback" in p for p in found) and any("stderr" in p for p in found)
    assert any("Error: " in p for p in found)
    good = tmp_path / "good.html"
    good.write_text('<article><div class="cell_output docutils container"><pre>PSNR 31.2 dB'
                    "</pre></div></article>")
    page.goto(good.as_uri())
    assert output_problems(page) == []
    page.close()


# Every code cell's input or output area that scrolls sideways: the area is wider than its box
# (content spilling out of it), or a scroll container inside it is (a <pre> with a long line).
# A wide table may scroll inside its own container (the theme's
# .pst-scrollable-table-container): that is what the container is for.
SIDEWAYS = """() => {
  const wide = e => e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1;
  const scrolls = e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX);
  const tableBox = e => e.matches('.pst-scrollable-table-container') && e.querySelector('table');
  const found = [];
  document.querySelectorAll('article div.cell').forEach((cell, index) => {
    cell.querySelectorAll('.cell_input, .cell_output').forEach(area => {
      const culprits = [area, ...[...area.querySelectorAll('*')].filter(scrolls)]
        .filter(e => wide(e) && !tableBox(e));
      if (culprits.length) found.push({index, area: area.classList.contains('cell_input') ? 'input' : 'output',
                                       text: area.innerText.trim().slice(0, 60)});
    });
  });
  return found;
}"""


def sideways_scrollers(page) -> list:
    """'cell N input|output: first 60 characters' for each cell area wider than its box."""
    return [f"cell {c['index']} {c['area']}: {c['text']!r}" for c in page.evaluate(SIDEWAYS)]


def test_sideways_scroll_check_finds_a_wide_cell_and_the_book_css_wraps_it(chromium, tmp_path):
    # The markup myst-nb gives a code cell, with a line longer than the page is wide.
    css = (ROOT / "_static" / "inrbook.css").as_uri()
    long = "x = " + " + ".join(f"term_{i}" for i in range(60))
    cell = ('<div class="cell docutils container"><div class="cell_input docutils container">'
            f'<div class="highlight-ipython3 notranslate"><div class="highlight"><pre>{long}</pre></div>'
            '</div></div><div class="cell_output docutils container"><div class="output stream '
            f'highlight-myst-ansi notranslate"><div class="highlight"><pre>{"9" * 300}</pre></div></div>'
            '</div></div>')
    table = ('<div class="cell docutils container"><div class="cell_output docutils container">'
             '<div class="pst-scrollable-table-container" style="overflow-x:auto"><table><tr>'
             + "".join(f"<td>column_{i}</td>" for i in range(80)) + "</tr></table></div></div></div>")
    tab = chromium.new_page(viewport={"width": 1280, "height": 800})
    # Without the book's CSS both areas are too wide; with it they wrap, and the table scrolls
    # inside its own container (the theme gives that container overflow-x: auto, as here).
    for head, expected in (("", ["cell 0 input: " + repr(long[:60]), "cell 0 output: " + repr("9" * 60)]),
                           (f'<link rel="stylesheet" href="{css}">', [])):
        page = tmp_path / "page.html"
        page.write_text(f'<html><head>{head}</head><body><article style="width:700px">{cell}{table}'
                        "</article></body></html>")
        tab.goto(page.as_uri())
        assert sideways_scrollers(tab) == expected
    tab.close()


@pytest.mark.parametrize("stem", CHAPTERS)
def test_no_cell_scrolls_sideways_at_1280_px(browser, stem):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto((HTML / "chapters" / f"{stem}.html").as_uri())
    found = sideways_scrollers(page)
    assert not found, f"{stem}: {len(found)} cell areas scroll sideways at 1280 px:\n" + "\n".join(found)
    page.close()


@pytest.mark.parametrize("stem", CHAPTERS)
def test_chapter_page_in_a_browser(browser, stem):
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto((HTML / "chapters" / f"{stem}.html").as_uri())
    body = page.locator("article")
    assert body.count() == 1
    text = body.inner_text()
    assert output_problems(page) == []
    figures = page.locator("article img")
    assert figures.count() > 0, "no figures"
    assert all(figures.nth(i).evaluate("i => i.complete && i.naturalWidth > 0") for i in range(figures.count()))
    assert page.locator(".jupyter-widgets, .widget-area").count() == 0, "blank widget area"
    # Each static slider: moving it shows another picture and updates its value.
    sliders = page.locator(".inr-static-slider")
    for i in range(sliders.count()):
        s = sliders.nth(i)
        visible = "r => Array.from(r.querySelectorAll('img')).findIndex(m => m.style.display !== 'none')"
        before, label = s.evaluate(visible), s.locator(".inr-value").inner_text()
        target = 0 if before != 0 else 1
        s.locator("input[type=range]").fill(str(target))
        assert s.evaluate(visible) == target
        assert s.locator(".inr-value").inner_text() != label
        shown = s.evaluate(f"r => r.querySelectorAll('img')[{target}].dataset.caption")
        assert s.locator(".inr-caption").inner_text().strip() == shown.strip(), "caption not updated"
    # Live widgets have no kernel here: their cells must show the note, not raw widget JSON.
    assert "application/vnd.jupyter.widget-view" not in text and "model_id" not in text
    assert not errors, errors
    page.close()
