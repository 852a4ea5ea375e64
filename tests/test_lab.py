"""The chapters' live controls in a real frontend: JupyterLab, driven in headless Chromium.

One test per chapter with live controls (02-09), each in a workspace of its own (no chapter sees
another's tabs), cells found by their code, progress bars on as `make lab` has them. The chapter
runs up to its live demonstration (the cells after it are nbval's); then two sliders are
dragged with the mouse, Train must change the output, an interrupt must end in "stopped at step
N", and reset() must bring back the start values. INR_LAB=02_images,08_shapes picks chapters;
INR_LAB_CHAPTERS=DIR takes the notebooks from DIR instead of chapters/. The server runs on
127.0.0.1 with a temporary token, a free port and throw-away settings, on copies of the
chapters (JupyterLab autosaves what it runs), and is stopped by its PID.
"""
import importlib.util
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from inrlib.book import live

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import lab_copies  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
JUPYTER_LAB = Path(sys.executable).with_name("jupyter-lab")

SOURCE = Path(os.environ.get("INR_LAB_CHAPTERS", ROOT / "chapters"))
# What each chapter's controls must show and hold once its cells have run: the values its
# text names, exactly (a browser must not round 30 to 31.6). readouts: slider label ->
# the readout shown; kernel: control name -> repr of the value the kernel holds.
EXPECTED = {
    "02_images": dict(readouts={"first ω0": "30", "hidden ω0": "30"},
                      kernel={"first_omega": "30", "hidden_omega": "30"}),
    "03_audio": dict(readouts={"ω0": "3000"}, kernel={"omega": "3000"}),
    "04_poisson": dict(readouts={"ω0": "30"}, kernel={"omega": "30"}),
    "05_initialization": dict(readouts={"ω0": "30"}, kernel={"omega": "30"}),
    "06_periodicity": dict(readouts={"ω0": "30", "extent": "50"},
                           kernel={"omega": "30", "extent": "50"}),
    "07_spectral_bias": dict(readouts={}, kernel={}),
    "08_shapes": dict(readouts={}, kernel={}),
    "09_after_siren": dict(readouts={"parameter": "30"}, kernel={"value": "30"}),
}
CHAPTERS = [c for c in os.environ.get("INR_LAB", ",".join(EXPECTED)).split(",") if c]
BAR = ".widget-hprogress:not([data-inr-old])"  # the progress bar of the latest run
LONG = 1_500_000  # ms: running a chapter's cells (about a minute on an idle 2-core machine)
DRAGGABLE = 150  # px: the least track a mouse can set a slider on, at a 1280 px wide window


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api(base, token, path, method="GET"):
    req = urllib.request.Request(f"{base}{path}", method=method,
                                 headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        body = r.read()
    return json.loads(body) if body else None


def _settings(folder: Path):
    """Throw-away JupyterLab settings: every cell stays in the DOM (no windowing), no news
    or update checks (offline, and no pop-up over the notebook)."""
    for name, value in {
        "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification": {"fetchNews": "false",
                                                        "checkForUpdates": False},
    }.items():
        path = folder / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if importlib.util.find_spec("jupyterlab") is None or not JUPYTER_LAB.exists():
        pytest.skip("JupyterLab not installed in this environment (make lab or scripts/setup.sh)")
    tmp = tmp_path_factory.mktemp("lab")
    notebooks = tmp / "chapters"
    notebooks.mkdir()
    for stem in CHAPTERS:  # as `make lab` copies them
        lab_copies.copy(SOURCE / f"{stem}.ipynb", notebooks / f"{stem}.ipynb")
    _settings(tmp / "settings")
    env = dict(os.environ, INR_PROFILE="quick", INR_PROGRESS="1",  # as `make lab` has them
               JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),
               JUPYTER_CONFIG_DIR=str(tmp / "config"),  # no user config
               JUPYTER_DATA_DIR=str(tmp / "data"),  # fresh trust database: outputs untrusted
               JUPYTER_RUNTIME_DIR=str(tmp / "runtime"))
    token, port = secrets.token_hex(16), _free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [str(JUPYTER_LAB), "--no-browser", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={notebooks}",
           "--LabApp.expose_app_in_browser=True"]  # window.jupyterapp: run cells by command
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(tmp / "server.log", "w")
    server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp)
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                pytest.fail(f"jupyter lab exited ({server.returncode}):\n"
                            + (tmp / "server.log").read_text()[-3000:])
            try:
                _api(base, token, "/api/status")
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("jupyter lab did not answer within 120 s:\n"
                                + (tmp / "server.log").read_text()[-3000:])
                time.sleep(0.5)
        yield dict(base=base, token=token, tmp=tmp)
    finally:
        try:
            for kernel in _api(base, token, "/api/kernels") or []:
                _api(base, token, f"/api/kernels/{kernel['id']}", "DELETE")
        except OSError:
            pass  # the server is already gone; nothing of ours is left to shut down
        os.kill(server.pid, signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.kill(server.pid, signal.SIGKILL)
            server.wait(10)
        log.close()


def _live_cells(stem):
    """Indices (in the notebook) of the cell that builds the live controls and of the first
    cell from there on that runs its demonstration, and the controls' variable name: found by
    their code, so a cell added above changes nothing."""
    cells = json.loads((SOURCE / f"{stem}.ipynb").read_text())["cells"]
    src = ["".join(c["source"]) if c["cell_type"] == "code" else "" for c in cells]
    build = next(i for i, s in enumerate(src) if "live_controls(" in s)
    name = re.search(r"(\w+) = \w+\.live_controls\(", src[build]).group(1)
    demo = next(i for i in range(build, len(src))
                if re.search(rf"\b{name}\.(click|demo)\(", src[i]))
    return build, demo, name, len(src)


class Notebook:
    """One notebook open in JupyterLab (the current widget of its own workspace)."""

    def __init__(self, page, shots: Path, stem):
        self.page, self.shots, self.stem = page, shots, stem

    def shot(self, what):
        path = self.shots / f"{self.stem}-{what}.png"
        self.page.screenshot(path=str(path), full_page=False)
        return path

    def cell(self, i, mark):
        """Cell i of this notebook, marked in the DOM so that no other notebook's cell matches."""
        self.page.evaluate("""([i, mark]) => { window.jupyterapp.shell.currentWidget.content
            .widgets[i].node.dataset.inrCell = mark; }""", [i, mark])
        return self.page.locator(f".jp-Cell[data-inr-cell='{mark}']")

    def run_through(self, last):
        """Run cells 0..last in the kernel, as Run > Run All Above does; fail on an error."""
        self.page.evaluate("""last => {
            const nb = window.jupyterapp.shell.currentWidget.content;
            window.__inrDone = undefined;
            const n = nb.widgets.length;
            nb.activeCellIndex = Math.min(last + 1, n - 1);
            const cmd = last + 1 < n ? 'notebook:run-all-above' : 'notebook:run-all-cells';
            window.jupyterapp.commands.execute(cmd).then(
                ok => { window.__inrDone = String(ok); }, e => { window.__inrDone = String(e); });
        }""", last)
        self.page.wait_for_function("() => window.__inrDone !== undefined", timeout=LONG)
        errors = self.page.evaluate("""last => window.jupyterapp.shell.currentWidget.content
            .widgets.slice(0, last + 1).flatMap((c, i) => c.model.type !== 'code' ? [] :
            c.model.outputs.toJSON().filter(o => o.output_type === 'error')
             .map(o => `cell ${i}: ${o.ename}: ${o.evalue}`))""", last)
        assert not errors, errors
        done = self.page.evaluate("() => window.__inrDone")
        assert done == "true", f"running the cells did not complete: {done}"

    def kernel_print(self, code, at):
        """What `code` prints, from a cell inserted at index `at` and run alone."""
        self.page.evaluate("""([at, code]) => {
            const nb = window.jupyterapp.shell.currentWidget.content;
            nb.model.sharedModel.insertCell(at, {cell_type: 'code', source: code});
            nb.activeCellIndex = at;
            window.__inrDone = undefined;
            window.jupyterapp.commands.execute('notebook:run-cell').then(
                ok => { window.__inrDone = String(ok); }, e => { window.__inrDone = String(e); });
        }""", [at, code])
        self.page.wait_for_function("() => window.__inrDone !== undefined", timeout=60_000)
        return self.cell(at, f"k{at}").locator(".jp-OutputArea-output").inner_text().strip()


class Controls:
    """The widgets of one LiveControls output, found by their labels."""

    def __init__(self, cell):
        self.cell = cell
        self.page = cell.page

    def control(self, label):
        labels = self.page.locator("label.widget-label", has_text=re.compile(f"^{re.escape(label)}$"))
        return self.cell.locator(".widget-inline-hbox").filter(has=labels).first

    def sliders(self):
        """{label: (readout, track width in px, disabled)} of every slider, in order."""
        return dict(self.cell.evaluate("""c => [...c.querySelectorAll('.widget-inline-hbox')]
            .filter(b => b.querySelector('.noUi-target') && b.querySelector('label'))
            .map(b => [b.querySelector('label').textContent, [
                b.querySelector('.widget-readout').textContent.trim(),
                b.querySelector('.noUi-target').getBoundingClientRect().width,
                b.querySelector('.noUi-target').hasAttribute('disabled')]])"""))

    def readout(self, label):
        return self.control(label).locator(".widget-readout").inner_text().strip()

    def message(self):
        """The text next to the Train button (a refusal, an error, where a run stopped)."""
        return self.cell.locator(".widget-button").first.locator(
            "xpath=following-sibling::*[1]").inner_text().strip()

    def press(self, button="Train"):
        # Mark the bars shown so far: the run this starts draws a new one.
        self.cell.evaluate("c => c.querySelectorAll('.widget-hprogress').forEach("
                           "b => { b.dataset.inrOld = '1'; })")
        self.cell.locator("button", has_text=button).first.click()

    def drag(self, label, dx):
        """Drag the slider's handle `dx` pixels with the mouse; return the new readout."""
        before = self.readout(label)
        box = self.control(label).locator(".noUi-handle").first.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        self.page.mouse.move(x, y)
        self.page.mouse.down()
        self.page.mouse.move(x + dx, y, steps=8)
        self.page.mouse.up()
        deadline = time.monotonic() + 10
        while self.readout(label) == before and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.readout(label)

    def progress_state(self):
        """(description, fraction of the bar filled, bar style class) of the run's bar."""
        bar = self.cell.locator(BAR).last
        return bar.evaluate("""b => {
            const fill = b.querySelector('.progress-bar');
            const outer = b.querySelector('.progress');
            const label = b.querySelector('label');
            const style = [...fill.classList].find(c => c.startsWith('progress-bar-')) || '';
            return [label ? label.textContent : '', fill.getBoundingClientRect().width /
                    outer.getBoundingClientRect().width, style];
        }""")

    def pictures_digest(self):
        """A digest of every picture in the output (blob URLs change on every redraw)."""
        return self.cell.evaluate("""async c => {
            const parts = [];
            for (const img of c.querySelectorAll('.jp-Cell-outputArea img')) {
                parts.push(new Uint8Array(await (await fetch(img.src)).arrayBuffer()));
            }
            const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
            parts.reduce((at, p) => { all.set(p, at); return at + p.length; }, 0);
            const h = await crypto.subtle.digest('SHA-256', all);
            return parts.length + ':' + Array.from(new Uint8Array(h)).map(b => b.toString(16)).join('');
        }""")

    def wait_for_run_end(self, timeout_s=300, style="progress-bar-success"):
        """Wait until the run's bar is styled as finished and the button is back; fail with what
        is shown."""
        deadline = time.monotonic() + timeout_s
        state = None
        while time.monotonic() < deadline:
            if self.cell.locator(BAR).count():
                state = self.progress_state()
                if state[2] == style and not self.cell.locator("button:disabled").count():
                    return state
            elif self.message() and not self.cell.locator("button:disabled").count():
                break  # refused, or failed before its first step
            time.sleep(0.5)
        pytest.fail(f"the run did not end with a {style} bar in {timeout_s} s: bar {state}, "
                    f"message {self.message()!r}")


def _assert_no_error_text(nb, cell):
    text = cell.locator(".jp-Cell-outputArea").inner_text()
    for bad in ("Traceback", "Error", "model not found"):
        assert bad not in text, f"{bad!r} shown under the live controls: {text[-1500:]}"
    page_text = nb.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook").inner_text()
    assert "Error displaying widget" not in page_text, "a widget output lost its model"
    assert not nb.page.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.stderr']"
                               ).filter(has_text="Error").count(), "error text on stderr"


def _open(chromium, lab, stem):
    page = chromium.new_page(viewport={"width": 1280, "height": 1000})
    page.set_default_timeout(60_000)
    # A workspace named for the chapter: it opens this notebook alone, whatever ran before.
    page.goto(f"{lab['base']}/lab/workspaces/{stem}/tree/{stem}.ipynb?token={lab['token']}")
    page.wait_for_function("""() => { const w = window.jupyterapp && window.jupyterapp.shell
        .currentWidget; const k = w && w.sessionContext && w.sessionContext.session &&
        w.sessionContext.session.kernel; return k && k.status === 'idle'; }""", timeout=120_000)
    return page


@pytest.mark.parametrize("stem", CHAPTERS)
def test_live_controls_in_jupyterlab(lab, chromium, stem):
    build, demo, name, n_cells = _live_cells(stem)
    page = _open(chromium, lab, stem)
    nb = Notebook(page, lab["tmp"], stem)
    try:
        assert page.locator(".jp-NotebookPanel").count() == 1, "another notebook's tab is open"
        cell = nb.cell(build, "build")
        cell.scroll_into_view_if_needed()
        # Before the cell has run, the saved output's fallback must say to run it.
        before = cell.locator(".jp-OutputArea-output").first.inner_text()
        assert "run the cell" in before and "precomputed" not in before, before
        if stem == "02_images":  # MyST in JupyterLab (jupyterlab-myst): no role left as raw text
            prose = page.locator(".jp-MarkdownCell .jp-Cell-inputArea").all_inner_texts()
            assert any(t.startswith("Fitting images") for t in prose), prose[:2]  # rendered
            raw = [t for t in prose if re.search(r"\{(cite:p|cite:t|doc|glue:text|ref|numref)\}`", t)]
            assert not raw, raw[:3]
            text = "\n".join(prose)  # read as on the site: a citation, a figure number, a link
            assert "(Sitzmann et al., 2020" in text and re.search(r"Fig\. 2\.\d", text), text[:600]

        nb.run_through(demo)
        cell.scroll_into_view_if_needed()
        ctl = Controls(cell)
        ctl.control("steps").wait_for()
        _assert_no_error_text(nb, cell)
        expected = EXPECTED[stem]
        # The start state: the values the text names, no leftover message from the demo.
        start = ctl.sliders()
        for label, (shown, width, _) in start.items():
            assert width >= DRAGGABLE, f"{label}'s track is {width:.0f} px wide at 1280 px"
            assert not re.fullmatch(r"-?\d+\.\d*0", shown), f"{label} reads {shown}, not as set"
        for label, shown in expected["readouts"].items():
            assert ctl.readout(label) == shown, (label, ctl.readout(label))
        assert ctl.message() == "", ctl.message()
        nb.shot("started")
        if stem == "02_images":
            _relu_pe_refusal(nb, ctl)

        # Two sliders set with the mouse (to lower values: a cheaper run), then Train.
        movable = [label for label, (_, _, off) in start.items() if label != "steps" and not off]
        movable = (movable + ["steps"])[:2]
        for label in movable:
            old = ctl.readout(label)
            new = ctl.drag(label, -0.2 * start[label][1])
            if new == old:  # at its lowest already: the other way
                new = ctl.drag(label, 0.2 * start[label][1])
            assert new != old, f"dragging {label} did not move it"
        nb.shot("dragged")
        pictures = ctl.pictures_digest()
        ctl.press()
        ctl.wait_for_run_end()
        assert ctl.message() == "", ctl.message()
        assert ctl.pictures_digest() != pictures, "Train did not change the output"
        _assert_no_error_text(nb, cell)
        nb.shot("trained")

        _interrupt(nb, ctl)
        # reset() brings back the start values, exactly as the kernel holds them.
        held = nb.kernel_print(f"{name}.reset()\nprint({{k: repr(v) for k, v in "
                               f"{name}.values().items()}})", n_cells)
        after = ctl.sliders()
        assert {k: v[0] for k, v in after.items()} == {k: v[0] for k, v in start.items()}, after
        for key, value in expected["kernel"].items():
            assert f"'{key}': '{value}'" in held, (key, value, held)
        assert ctl.message() == "", ctl.message()
    except BaseException:  # pytest.fail's exception too
        nb.shot("failure")
        raise
    finally:
        page.close()
        try:  # this chapter's kernel goes, so the next one has the machine to itself
            for session in _api(lab["base"], lab["token"], "/api/sessions") or []:
                if session["path"].endswith(f"{stem}.ipynb"):
                    _api(lab["base"], lab["token"], f"/api/sessions/{session['id']}", "DELETE")
        except OSError:
            pass  # the server is gone: the fixture reports it


def _relu_pe_refusal(nb, ctl):
    """02: ω0 greyed out and named as ignored for ReLU + PE; L = 0 refused with a reason."""
    ctl.control("model").locator("select").select_option("ReLU + PE")
    nb.page.wait_for_function("c => c.innerText.includes('ignored: first ω0, hidden ω0')",
                              arg=ctl.cell.element_handle())
    handle = ctl.control("L").locator(".noUi-handle").first
    handle.focus()
    handle.press("Home")
    nb.page.wait_for_timeout(500)
    assert ctl.readout("L") == "0"
    ctl.press()
    nb.page.wait_for_function("c => c.innerText.includes('L = 0')", arg=ctl.cell.element_handle())
    assert "ReLU + PE with L = 0 is the plain ReLU network" in ctl.message(), ctl.message()
    nb.shot("refused")
    ctl.control("model").locator("select").select_option("SIREN")
    nb.page.wait_for_function("c => !c.innerText.includes('ignored: first ω0')",
                              arg=ctl.cell.element_handle())


def _interrupt(nb, ctl):
    """Interrupting the kernel mid-run: "stopped at step N" beside the button and on the bar's
    line, the bar styled as stopped (orange), no traceback."""
    steps = ctl.control("steps").locator(".noUi-handle").first
    steps.focus()
    steps.press("End")  # the longest run: the interrupt lands mid-run
    nb.page.wait_for_timeout(500)
    ctl.press()
    nb.page.wait_for_function("""c => { const l = [...c.querySelectorAll('.widget-hprogress:not([data-inr-old]) label')];
        const m = l.length && l[l.length - 1].textContent.match(/^step (\\d+)$/);
        return m && +m[1] > 0; }""", arg=ctl.cell.element_handle(), timeout=120_000)
    nb.page.locator("[data-command='notebook:interrupt-kernel']").first.click()  # toolbar ■
    state = ctl.wait_for_run_end(timeout_s=120, style="progress-bar-warning")
    assert state[0] == "stopped", state
    said = re.fullmatch(r"stopped at step (\d+)", ctl.message())
    assert said, ctl.message()
    line = ctl.cell.locator(BAR).last.locator("xpath=..").inner_text()
    assert f"stopped at step {said.group(1)}" in line, line
    assert int(said.group(1)) < int(ctl.readout("steps")), "the run ended before the interrupt"
    _assert_no_error_text(nb, ctl.cell)
    nb.shot("stopped")


def test_live_note_on_the_static_site_points_to_the_precomputed_sliders(chromium):
    """The site renders the fallback note as it is, <style> included, under a theme whose
    reset says [hidden] {display: none !important} (Bootstrap's, in sphinx-book-theme)."""
    page = chromium.new_page()
    page.set_content("<html><head><style>[hidden]{display:none!important}</style></head>"
                     f"<body>{live.live_note('below')}</body></html>")
    text = page.locator("body").inner_text()
    assert "run this notebook to use these controls" in text and "sliders are below" in text
    assert "run the cell" not in text, text
    page.close()
