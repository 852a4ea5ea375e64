"""inrlib: implicit neural representations (coordinate MLPs).

The core, imported here: grids and signals, models (activations, encodings, init schemes),
differential operators, training (`fit`, `fit_many`, `predict`, `sweep`), metrics, device and
profile.
The book's analysis and display tools live beside it in `inrlib.book` (one module per concern,
imported by module: `from inrlib.book import poisson`); the core never imports them, and
`import inrlib` loads neither matplotlib nor ipywidgets.
"""
from .activations import ACTIVATIONS, Sine, SquareWave, TriangleWave
from .diffops import derivatives, divergence, gradient, laplacian
from .encodings import ENCODINGS, FourierFeatures, HashGrid, PositionalEncoding
from .grids import grid, to_flat, to_signal
from .init import INITS, register_init
from .metrics import mse, psnr, snr, ssim
from .models import INR, ModelConfig, relu_mlp, siren
from .profile import Profile, device, get_profile
from .signals import Signal, data_file, image_gradient, image_laplacian, load_audio, load_image
from .sweep import sweep
from .training import History, fit, fit_many, predict

__version__ = "0.2.0"

__all__ = [
    "ACTIVATIONS", "ENCODINGS", "INITS", "INR", "FourierFeatures", "HashGrid", "History",
    "ModelConfig", "PositionalEncoding", "Profile", "Signal", "Sine", "SquareWave", "TriangleWave",
    "data_file", "derivatives", "device", "divergence", "fit", "fit_many", "get_profile",
    "gradient", "grid", "image_gradient", "image_laplacian", "laplacian", "load_audio",
    "load_image", "mse", "predict", "psnr", "register_init", "relu_mlp", "siren", "snr", "ssim",
    "sweep", "to_flat", "to_signal",
]
