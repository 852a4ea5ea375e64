"""inrlib: implicit neural representations (coordinate MLPs).

The core, imported here: grids and signals, models (activations, encodings, init schemes),
losses, differential operators, training (`fit`, `fit_many`, `sweep`), `predict`, metrics and
the device.
The book's analysis and display tools live beside it in `inrlib.book` (one module per concern,
imported by module: `from inrlib.book import poisson`); the core never imports them, and
`import inrlib` loads neither matplotlib nor ipywidgets.
"""
from .activations import ACTIVATIONS, Sine, SquareWave, TriangleWave
from .diffops import derivatives, divergence, gradient, laplacian
from .encodings import ENCODINGS, FourierFeatures, HashGrid, PositionalEncoding
from .grids import grid, to_flat, to_signal
from .init import INITS, register_init
from .device import device
from .evaluation import predict
from .losses import Loss
from .metrics import mse, psnr, psnr_from_mse, snr, ssim
from .models import INR, ModelConfig, relu_mlp, siren
from .signals import Signal, image_gradient, image_laplacian, load_image
from .sweep import sweep
from .training import History, fit, fit_many
from .wav import data_file, load_audio

__version__ = "0.2.0"

__all__ = [
    "ACTIVATIONS", "ENCODINGS", "INITS", "INR", "FourierFeatures", "HashGrid", "History",
    "Loss", "ModelConfig", "PositionalEncoding", "Signal", "Sine", "SquareWave", "TriangleWave",
    "data_file", "derivatives", "device", "divergence", "fit", "fit_many",
    "gradient", "grid", "image_gradient", "image_laplacian", "laplacian", "load_audio",
    "load_image", "mse", "predict", "psnr", "psnr_from_mse", "register_init", "relu_mlp", "siren",
    "snr", "ssim", "sweep", "to_flat", "to_signal",
]
