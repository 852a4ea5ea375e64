"""How big the book's experiments are: the `quick` (CPU, CI) and `full` (GPU, paper size) profiles,
and each chapter's own sizes for both (`sizes`), which its page states at the top."""
import os
from dataclasses import dataclass, replace

from ..device import device

PROFILE_ENV = "INR_PROFILE"


@dataclass(frozen=True)
class Profile:
    """Sizes the chapters read instead of hard-coding them.

    `quick` runs every chapter on two CPU cores in minutes and still shows each phenomenon;
    `full` is paper-sized and meant for a GPU.
    """

    name: str
    image_size: int  # side of the square training image, pixels
    width: int  # hidden units per layer
    depth: int  # number of hidden (activated) layers
    steps: int  # optimisation steps for a single fit
    sweep_steps: int  # steps for each configuration of a slider sweep
    sweep_width: int  # width of the networks in a sweep
    audio_seconds: float  # length of the audio clip that is fitted
    stats_width: int  # width of the deep network used for activation statistics
    stats_depth: int
    seeds: int  # repetitions for mean and spread

    def select(self, quick, full):
        """Pick a chapter-specific value by profile: `P.select(quick=200, full=2000)`."""
        return quick if self.name == "quick" else full

    def with_(self, **changes) -> "Profile":
        return replace(self, **changes)


PROFILES = {
    "quick": Profile("quick", image_size=64, width=128, depth=3, steps=400, sweep_steps=250,
                     sweep_width=64, audio_seconds=1.0, stats_width=512, stats_depth=6, seeds=2),
    "full": Profile("full", image_size=256, width=256, depth=4, steps=2000, sweep_steps=1000,
                    sweep_width=128, audio_seconds=7.0, stats_width=2048, stats_depth=10, seeds=5),
}


def get_profile(name: str | None = None) -> Profile:
    """The profile named, else $INR_PROFILE, else `full` on a GPU and `quick` on a CPU."""
    name = name or os.environ.get(PROFILE_ENV) or ("full" if device().type == "cuda" else "quick")
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; choose one of {sorted(PROFILES)} "
                         f"(set with the {PROFILE_ENV} environment variable)")
    return PROFILES[name]


class Sizes:
    """A chapter's sizes in both profiles: `sizes(image=(48, 256), steps=(200, 1000))` gives
    `.image == 48` in the quick profile and 256 in the full one. Displayed, it is the line that
    says what this profile trains and what the other one uses (the profile, device and date of
    the run are the build's line under the title)."""

    LABELS = {"image": "{}-pixel training images", "width": "width {}", "depth": "depth {}",
              "steps": "{} steps", "seconds": "{} s of audio", "sweep_steps": "{} steps per sweep",
              "points": "{} points per shape", "batch": "batches of {} surface points",
              "grid": "a {}³ marching-cubes grid", "L": "L = {} encoding frequencies",
              "sweep_image": "{}-pixel sweep images", "rate": "{} samples per second",
              "steps_1d": "{} steps in 1D", "steps_2d": "{} steps on the image"}

    def __init__(self, profile: Profile, **pairs):
        for name, pair in pairs.items():
            if not isinstance(pair, tuple) or len(pair) != 2:
                raise ValueError(f"{name} must be a (quick, full) pair, got {pair!r}")
        self.profile, self.pairs = profile, pairs
        for name, (quick, full) in pairs.items():
            setattr(self, name, profile.select(quick=quick, full=full))

    def _describe(self, which: int) -> str:
        return ", ".join(self.LABELS.get(n, n + " {}").format(p[which]) for n, p in self.pairs.items())

    def _repr_markdown_(self) -> str:
        # The profile, device and date are the build's line under the title (_ext/run_line.py,
        # from metadata.inrbook); this line says what this profile trains and what the other does.
        now, other = (0, 1) if self.profile.name == "quick" else (1, 0)
        other_name = "full" if self.profile.name == "quick" else "quick"
        return (f'<p class="inr-run">In the <strong>{self.profile.name}</strong> profile this '
                f"chapter uses {self._describe(now)}; the {other_name} profile uses "
                f"{self._describe(other)}.</p>")


def sizes(profile: Profile | None = None, **pairs) -> Sizes:
    """This chapter's sizes as (quick, full) pairs, read for the current profile (see Sizes)."""
    return Sizes(profile or get_profile(), **pairs)
