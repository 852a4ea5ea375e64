"""The page checks catch what a reader would see: each check fails on a figure or output made
to break it, and passes on a clean one."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from inrlib.book import pagecheck  # noqa: E402


@pytest.fixture(autouse=True)
def close_all():
    yield
    plt.close("all")


def clean_figure():
    fig, axes = plt.subplots(1, 2, figsize=(7, 3), dpi=100)
    for ax in axes:
        ax.plot(np.arange(5), np.arange(5) ** 2)
        ax.set_title("a title")
        ax.set_xlabel("step")
        ax.set_ylabel("PSNR (dB)")
    fig.tight_layout()
    return fig


def test_a_clean_figure_passes():
    assert pagecheck.figure_problems(clean_figure()) == []


def test_overlapping_titles_are_caught():
    fig, axes = plt.subplots(1, 2, figsize=(4, 2), dpi=100)
    for ax in axes:
        ax.set_title("a rather long title that runs into its neighbour")
    problems = pagecheck.figure_problems(fig, scale=1.0)
    assert any("overlaps" in p for p in problems), problems


def test_small_text_is_caught_at_the_size_the_page_shows_it():
    fig = clean_figure()
    fig.axes[0].set_xlabel("tiny", fontsize=4)
    problems = pagecheck.figure_problems(fig)
    assert any("'tiny' is" in p and "px on the page" in p for p in problems), problems
    big = plt.figure(figsize=(20, 3), dpi=100)  # shown at 688 px: scaled to a third
    big.gca().set_title("readable on its own, not at a third", fontsize=10)
    assert any("px on the page" in p for p in pagecheck.figure_problems(big))


def test_overlapping_axes_and_a_colour_bar_on_an_image_are_caught():
    fig = plt.figure(figsize=(4, 3), dpi=100)
    a = fig.add_axes([0.1, 0.1, 0.6, 0.8])
    fig.add_axes([0.5, 0.1, 0.4, 0.8]).plot([0, 1])
    im = a.imshow(np.random.default_rng(0).random((8, 8)))
    fig.colorbar(im, cax=fig.add_axes([0.6, 0.1, 0.05, 0.8]))
    problems = pagecheck.figure_problems(fig, scale=1.0)
    assert sum("overlap" in p for p in problems) >= 2, problems


def test_twin_axes_are_not_an_overlap():
    fig, ax = plt.subplots(figsize=(5, 3), dpi=100)
    ax.plot([0, 1])
    ax.twinx().plot([1, 0], color="C1")
    fig.tight_layout()
    assert pagecheck.figure_problems(fig) == []


@pytest.mark.parametrize("text, what", [
    ("| a | b |\n|---|---|\n| 1 | 2 |\n", "Markdown table"),
    ("{'SIREN': 31.2, 'ReLU': 22.0}\n", "raw Python dict"),
    ("The whole chapter ran in 53 s.\n", "run-log"),
    ("computed in 3.2 s on this machine\n", "run-log"),
])
def test_outputs_a_reader_should_not_see(text, what):
    assert any(what in p for p in pagecheck.output_problems(text))


def test_plain_results_pass():
    assert pagecheck.output_problems("SIREN reaches 31.2 dB after 400 steps.\n") == []


def test_api_names_in_prose_must_exist():
    assert pagecheck.prose_problems("Fit it with `inr.fit` and `poisson.derivative_loss`.") == []
    bad = pagecheck.prose_problems("Build targets with `inr.derivative_targets` and `sdf.nope`.")
    assert len(bad) == 2 and "inr.derivative_targets" in bad[0]


def test_a_figure_legend_in_a_plot_is_not_a_problem_but_text_on_another_axes_is():
    fig, axes = plt.subplots(1, 2, figsize=(7, 3), dpi=100)
    for ax in axes:
        ax.plot([0, 1], label="a line")
    fig.legend(loc="upper left", bbox_to_anchor=(0.08, 0.9))
    fig.tight_layout()
    assert pagecheck.figure_problems(fig) == []
    axes[0].text(1.6, 0.5, "stray note", transform=axes[0].transData)  # lands on the right plot
    assert any("'stray note' lies on axes" in p for p in pagecheck.figure_problems(fig))


def test_slider_frames_are_checked_at_the_size_the_page_shows_them(capsys):
    """A frame is shown at most a column wide (a 10-inch frame at 0.69x): 6-pt text there is
    under 9 px and reported; the same frame with 14-pt text passes."""
    from inrlib.book import sliders

    def frame(size):
        fig, ax = plt.subplots(figsize=(10, 3))
        ax.set_title("ω0 = 30", fontsize=size)
        ax.set_xticks([]), ax.set_yticks([])
        return fig

    pagecheck.FOUND.clear()
    sliders.static_slider(frame, [6, 14], "font size")
    found = list(pagecheck.FOUND)
    assert any("slider frame font size = 6" in p and "px on the page" in p for p in found), found
    assert not any("font size = 14" in p for p in found), found
    assert pagecheck.MARK in capsys.readouterr().err  # execute_chapters reads these lines
    plt.close("all")


def test_api_names_through_submodules_not_yet_imported():
    """`inrlib.book.dynamics.x` names a submodule that `import inrlib` does not load: the check
    imports it rather than calling a valid name missing (and still catches a wrong one)."""
    assert pagecheck.prose_problems("See `inrlib.book.dynamics.fit_tracked`.") == []
    bad = pagecheck.prose_problems("See `inrlib.book.dynamics.fit_all` and `inrlib.book.nope`.")
    assert len(bad) == 2 and "'fit_all'" in bad[0] and "'nope'" in bad[1], bad
