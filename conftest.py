"""After the tests: which profile each committed chapter was executed in, and how long each
chapter took under nbval (quick profile)."""
from collections import defaultdict

_seconds = defaultdict(float)


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _seconds[path] += report.duration


def pytest_terminal_summary(terminalreporter):
    import json
    from pathlib import Path

    profiles = {}
    for path in sorted(Path(__file__).parent.glob("chapters/*.ipynb")):
        meta = json.loads(path.read_text()).get("metadata", {}).get("inrbook", {})
        profiles.setdefault(f"{meta.get('profile', '?')} on {meta.get('device', '?')}", []).append(path.stem)
    terminalreporter.section("committed chapters: executed in")
    for where, stems in profiles.items():
        terminalreporter.write_line(f"{where}: {', '.join(stems)}")
    if _seconds:
        terminalreporter.section("chapter execution times")
        for path, s in sorted(_seconds.items()):
            terminalreporter.write_line(f"{s:7.1f} s  {path}")
        terminalreporter.write_line(f"{sum(_seconds.values()):7.1f} s  all chapters")
