"""Serve MathJax from the site itself, so formulas render with no network.

Sphinx loads MathJax from a CDN by default; a page opened offline then shows raw TeX. The
jupyter-server-mathjax package ships MathJax 2.7: copy it into _static and point Sphinx at it.
"""
from pathlib import Path


def _use_local_mathjax(app, config):
    import jupyter_server_mathjax

    static = Path(jupyter_server_mathjax.__file__).parent / "static"
    config.html_static_path = list(config.html_static_path) + [str(static)]
    config.mathjax_path = "MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"
    config.mathjax3_config = None  # that config is for MathJax 3 and would confuse 2.7
    # Typeset Sphinx's math spans only; code and cell outputs keep their backslashes.
    config.mathjax2_config = {"tex2jax": {"inlineMath": [["\\(", "\\)"]],
                                          "displayMath": [["\\[", "\\]"]],
                                          "processClass": "math", "ignoreClass": "highlight|output"},
                              # the package ships the STIX web fonts only
                              "HTML-CSS": {"availableFonts": [], "webFont": "STIX-Web",
                                           "imageFont": None}}


def setup(app):
    app.connect("config-inited", _use_local_mathjax, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
