"""The chapters' live controls in a real frontend: JupyterLab, driven in headless Chromium.

By default chapter 02 only (CI's time); INR_LAB_ALL=1 checks every chapter with live controls.
The server runs on 127.0.0.1 with a temporary token, a free port and throw-away settings, on
copies of the chapters (JupyterLab autosaves what it runs), and is stopped by its PID.
"""
import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
JUPYTER_LAB = Path(sys.executable).with_name("jupyter-lab")

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
}
CHAPTERS = list(EXPECTED) if os.environ.get("INR_LAB_ALL") == "1" else ["02_images"]
BAR = ".widget-hprogress:not([data-inr-old])"  # the progress bar of the latest run
LONG = 1_500_000  # ms: running a chapter's cells (about a minute on an idle 2-core machine)


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
    for stem in CHAPTERS:
        shutil.copy(ROOT / "chapters" / f"{stem}.ipynb", notebooks)
    _settings(tmp / "settings")
    env = dict(os.environ, INR_PROFILE="quick", INR_PROGRESS="0",
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
    """Indices of the cell that builds the live controls, of the first cell from there on
    that presses its button (the executed book's demonstration), and the controls' name."""
    cells = json.loads((ROOT / "chapters" / f"{stem}.ipynb").read_text())["cells"]
    src = ["".join(c["source"]) if c["cell_type"] == "code" else "" for c in cells]
    build = next(i for i, s in enumerate(src) if "widgets.live_controls(" in s)
    name = re.search(r"(\w+) = widgets\.live_controls\(", src[build]).group(1)
    demo = next(i for i in range(build, len(src)) if f"{name}.click()" in src[i])
    return build, demo, name


class Notebook:
    """One notebook open in JupyterLab, and the live-controls output of one of its cells."""

    def __init__(self, page, shots: Path, stem):
        self.page, self.shots, self.stem = page, shots, stem

    def shot(self, what):
        path = self.shots / f"{self.stem}-{what}.png"
        self.page.screenshot(path=str(path), full_page=False)
        return path

    def cell(self, i):
        return self.page.locator(".jp-Notebook .jp-Cell").nth(i)

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

    def kernel_repr(self, expr, after):
        """repr(expr) as the kernel computes it, from a cell inserted below cell `after`."""
        self.page.evaluate("""([after, code]) => {
            const nb = window.jupyterapp.shell.currentWidget.content;
            nb.model.sharedModel.insertCell(after + 1, {cell_type: 'code', source: code});
            nb.activeCellIndex = after + 1;
            window.__inrDone = undefined;
            window.jupyterapp.commands.execute('notebook:run-cell').then(
                ok => { window.__inrDone = String(ok); }, e => { window.__inrDone = String(e); });
        }""", [after, f"print(repr({expr}))"])
        self.page.wait_for_function("() => window.__inrDone !== undefined", timeout=60_000)
        return self.cell(after + 1).locator(".jp-OutputArea-output").inner_text().strip()


class Controls:
    """The widgets of one LiveControls output, found by their labels."""

    def __init__(self, cell):
        self.cell = cell
        self.page = cell.page

    def control(self, label):
        labels = self.page.locator("label.widget-label", has_text=re.compile(f"^{re.escape(label)}$"))
        return self.cell.locator(".widget-inline-hbox").filter(has=labels).first

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

    def picture_digest(self):
        """A digest of the reconstruction's PNG (its blob URL changes on every redraw)."""
        return self.cell.locator(".widget-image").first.evaluate("""async img => {
            const data = await (await fetch(img.src)).arrayBuffer();
            const h = await crypto.subtle.digest('SHA-256', data);
            return Array.from(new Uint8Array(h)).map(b => b.toString(16)).join('');
        }""")

    def psnr(self):
        m = re.search(r"(-?\d+\.\d) dB", self.cell.locator(BAR).last.locator(
            "xpath=..").inner_text())
        return m and m.group(1)

    def wait_for_run_end(self, timeout_s=300, style="progress-bar-success"):
        """Wait until the run's bar is full and styled as finished; fail with what is shown."""
        deadline = time.monotonic() + timeout_s
        state = None
        while time.monotonic() < deadline:
            if self.cell.locator(BAR).count():
                state = self.progress_state()
                if state[2] == style and not self.cell.locator("button:disabled").count():
                    return state
            time.sleep(0.5)
        pytest.fail(f"the run did not end with a {style} bar in {timeout_s} s: bar {state}, "
                    f"message {self.message()!r}")


def _assert_no_error_text(nb, cell):
    text = cell.locator(".jp-Cell-outputArea").inner_text()
    for bad in ("Traceback", "Error", "model not found"):
        assert bad not in text, f"{bad!r} shown under the live controls: {text[-1500:]}"
    assert not nb.page.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.stderr']"
                               ).filter(has_text="Error").count(), "error text on stderr"


@pytest.mark.parametrize("stem", CHAPTERS)
def test_live_controls_in_jupyterlab(lab, chromium, stem):
    build, demo, name = _live_cells(stem)
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(60_000)
    nb = Notebook(page, lab["tmp"], stem)
    try:
        page.goto(f"{lab['base']}/lab/tree/{stem}.ipynb?token={lab['token']}")
        page.wait_for_function("""() => { const w = window.jupyterapp && window.jupyterapp.shell
            .currentWidget; const k = w && w.sessionContext && w.sessionContext.session &&
            w.sessionContext.session.kernel; return k && k.status === 'idle'; }""", timeout=120_000)
        cell = nb.cell(build)
        cell.scroll_into_view_if_needed()
        # Before the cell has run, the saved output's fallback must say to run it.
        before = cell.locator(".jp-OutputArea-output").inner_text()
        nb.shot("before-run")
        assert "run the cell" in before and "precomputed" not in before, before

        nb.run_through(demo)
        cell.scroll_into_view_if_needed()
        ctl = Controls(cell)
        ctl.control("steps").wait_for()
        expected = EXPECTED[stem]
        # The start state: the values the text names, no leftover message from the demo.
        for label, shown in expected["readouts"].items():
            assert ctl.readout(label) == shown, (label, ctl.readout(label))
        assert ctl.message() == "", ctl.message()
        nb.shot("started")
        if stem == "02_images":
            _relu_pe_run_refusal_and_interrupt(nb, ctl)
        else:
            ctl.press()
            ctl.wait_for_run_end()
        _assert_no_error_text(nb, cell)
        # The kernel holds exactly the values shown, untouched by the browser's round trip.
        if expected["kernel"]:
            held = nb.kernel_repr(f"{{k: repr(v) for k, v in {name}.values().items()}}", demo)
            for key, value in expected["kernel"].items():
                assert f"'{key}': '{value}'" in held, (key, value, held)
    except BaseException:  # pytest.fail's exception too
        nb.shot("failure")
        raise
    finally:
        page.close()


def _relu_pe_run_refusal_and_interrupt(nb, ctl):
    # The demonstration left a SIREN run's picture and PSNR: both must change.
    ctl.wait_for_run_end()
    picture, psnr = ctl.picture_digest(), ctl.psnr()
    assert psnr is not None
    ctl.control("model").locator("select").select_option("ReLU + PE")
    # ω0 does not apply to ReLU + PE: greyed out and named as ignored, not refused
    nb.page.wait_for_function("c => c.innerText.includes('ignored: first ω0, hidden ω0')",
                              arg=ctl.cell.element_handle())
    L = ctl.readout("L")
    handle = ctl.control("L").locator(".noUi-handle").first
    handle.focus()
    handle.press("ArrowRight")
    nb.page.wait_for_function(
        "([c, old]) => { const r = [...c.querySelectorAll('.widget-inline-hbox')].find(b =>"
        " b.querySelector('label') && b.querySelector('label').textContent === 'L');"
        " return r && r.querySelector('.widget-readout').textContent.trim() !== old; }",
        arg=[ctl.cell.element_handle(), L])
    assert int(ctl.readout("L")) == int(L) + 1
    nb.shot("relu-pe-picked")
    ctl.press()
    ctl.wait_for_run_end()
    nb.shot("relu-pe-trained")
    label, filled, _ = ctl.progress_state()
    assert filled > 0.99 and label == f"step {ctl.readout('steps')}", (label, filled)
    assert ctl.picture_digest() != picture, "the reconstruction did not change"
    assert ctl.psnr() not in (None, psnr), (psnr, ctl.psnr())
    assert ctl.message() == "", ctl.message()
    _assert_no_error_text(nb, ctl.cell)

    # A combination the controls must refuse: ReLU + PE with L = 0 is the plain ReLU network.
    handle.focus()
    handle.press("Home")
    nb.page.wait_for_timeout(500)
    assert ctl.readout("L") == "0"
    ctl.press()
    nb.page.wait_for_function("c => c.innerText.includes('L = 0')", arg=ctl.cell.element_handle())
    assert "ReLU + PE with L = 0 is the plain ReLU network" in ctl.message(), ctl.message()
    nb.shot("refused")

    # Interrupting the kernel mid-run: a one-line "stopped at step N", a bar styled stopped.
    handle.focus()
    handle.press("ArrowRight")
    steps = ctl.control("steps").locator(".noUi-handle").first
    steps.focus()
    steps.press("End")
    nb.page.wait_for_timeout(500)
    ctl.press()
    nb.page.wait_for_function("""c => { const l = [...c.querySelectorAll('.widget-hprogress:not([data-inr-old]) label')];
        const m = l.length && l[l.length - 1].textContent.match(/^step (\\d+)$/);
        return m && +m[1] > 0; }""", arg=ctl.cell.element_handle(), timeout=120_000)
    nb.page.locator("[data-command='notebook:interrupt-kernel']").first.click()  # toolbar ■
    at = ctl.progress_state()
    assert at[0] != f"step {ctl.readout('steps')}", f"the run ended before the interrupt: {at}"
    state = ctl.wait_for_run_end(timeout_s=120, style="progress-bar-warning")
    assert state[0] == "stopped", state
    assert re.fullmatch(r"stopped at step \d+", ctl.message()), ctl.message()
    nb.shot("stopped")


def test_live_note_on_the_static_site_points_to_the_precomputed_sliders(chromium):
    """The site renders the fallback note as it is, <style> included, under a theme whose
    reset says [hidden] {display: none !important} (Bootstrap's, in sphinx-book-theme)."""
    from inrlib.book import widgets

    page = chromium.new_page()
    page.set_content("<html><head><style>[hidden]{display:none!important}</style></head>"
                     f"<body>{widgets.live_note('below')}</body></html>")
    text = page.locator("body").inner_text()
    assert "run this notebook to use these controls" in text and "sliders are below" in text
    assert "run the cell" not in text, text
    page.close()
