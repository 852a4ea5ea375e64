"""A chapter's claims, checked where they are made: `check` asserts one and shows it as a single
line under the result ("✓ checked in this run: ..."), so the test stays in the notebook (nbval
and every execution fail on a broken claim) while the page shows what was checked."""
from IPython.display import Markdown, display


def check(holds: bool, claim: str) -> None:
    """Assert `holds`; show '✓ checked in this run: {claim}'. `claim` states the measured value
    and the bound it must meet, e.g. f"SIREN leads ReLU + PE by {lead:.1f} dB (needs > 5)"."""
    if not isinstance(claim, str) or not claim.strip():
        raise ValueError(f"claim must be a sentence saying what is checked, got {claim!r}")
    if not holds:
        raise AssertionError(f"claim does not hold in this run: {claim}")
    display(Markdown(f'<p class="inr-claim">✓ <em>checked in this run:</em> {claim}</p>'))
