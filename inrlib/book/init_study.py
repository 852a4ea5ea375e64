"""The SIREN initialisation variants that the initialisation chapter compares with the paper's
scheme, as in the community study of SIREN initialisation it re-measures (the study numbers its
schemes; the chapter quotes those numbers). Importing this module registers each variant with
`inrlib.register_init`, so that `inr.siren(init="bias_div15")` builds it.
"""
import math

from ..init import INITS, register_init, siren_scheme

# name -> (the scheme's number in the study, what changes w.r.t. "paper", siren_scheme settings)
STUDY_SCHEMES = {
    "first_normal": (4, "first layer N(0, (1/n)^2)", dict(first="normal")),
    "first_uniform_3": (5, "first layer U(±3/n)", dict(first_scale=3.0)),
    "first_normal_1.5": (6, "first layer N(0, (1.5/n)^2)", dict(first="normal", first_scale=1.5)),
    "first_normal_1.73": (12, "first layer N(0, (1.73/n)^2)", dict(first="normal", first_scale=1.73)),
    "normal_half": (8, "first N(0, (1.5/n)^2), hidden N(0, (√(6/n)/2ω)^2)",
                    dict(first="normal", first_scale=1.5, hidden="normal", hidden_scale=0.5)),
    "bias_zero": (15, "all biases 0", dict(bias_scale=0.0)),
    "bias_div10": (17, "PyTorch biases / 10", dict(bias_scale=0.1)),
    "bias_div15": (33, "PyTorch biases / 15", dict(bias_scale=1 / 15)),
    "bias_div30": (21, "PyTorch biases / 30", dict(bias_scale=1 / 30)),
    "bias_first0_div10": (18, "first bias 0, other biases / 10",
                          dict(bias_scale=0.1, first_bias_scale=0.0)),
    "bias_phase_pi": (22, "biases U(±π/ω)", dict(bias_phase=math.pi)),
}

# What goes wrong without the paper's choices (the chapter's "what breaks" section).
BROKEN_SCHEMES = {
    "no_omega_division": dict(divide_by_omega=False),
    "wide_first": dict(first_scale=10.0),
}

for _name, _settings in [(n, kw) for n, (_, _, kw) in STUDY_SCHEMES.items()] + list(BROKEN_SCHEMES.items()):
    if _name not in INITS:  # re-importing (autoreload) keeps the first registration
        register_init(_name)(siren_scheme(**_settings))
