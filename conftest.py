"""Print how long each chapter took to execute (quick profile under nbval), after the tests."""
from collections import defaultdict

_seconds = defaultdict(float)


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _seconds[path] += report.duration


def pytest_terminal_summary(terminalreporter):
    if _seconds:
        terminalreporter.section("chapter execution times")
        for path, s in sorted(_seconds.items()):
            terminalreporter.write_line(f"{s:7.1f} s  {path}")
        terminalreporter.write_line(f"{sum(_seconds.values()):7.1f} s  all chapters")
