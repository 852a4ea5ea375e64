"""inrlib: implicit neural representations (coordinate MLPs) for the INR Book."""
from .activations import ACTIVATIONS, Sine, SquareWave, TriangleWave, make_activation
from .diffops import divergence, gradient, gradient_and_laplacian, laplacian
from .encodings import ENCODINGS, FourierFeatures, PositionalEncoding, make_encoding
from .grids import grid, to_flat, to_signal
from .init import INITS, apply_init, register_init
from .metrics import mse, psnr, psnr_from_mse, snr, ssim
from .models import INR, relu_mlp, siren
from .profile import PROFILES, Profile, device, get_profile
from .signals import (IMAGE_NAMES, Signal, image_array, image_gradient, image_laplacian,
                      load_audio, load_image)
from .training import History, fit, fit_many, predict
from .widgets import LiveControls, StaticSlider, figure_png, live_controls, static_slider

__version__ = "0.1.0"
from .images import check_config, derivative_maps, every_other_pixel, pixel_centres
from .widgets import STATIC_NOTE, TrainingView, live_fit
from .periodicity import (autocorrelation, central_lobe_radius, common_period, linear_fit_residual, off_centre_peak, rational_gcd, ray_linearity, render_window, shift_error, siren_period)
from .init import SEED001_SCHEMES, siren_scheme
from .dynamics import (sum_of_sines, frequency_amplitudes, fit_tracked, frequency_convergence, steps_to_learn, random_image, activation_patterns, pattern_ids, count_patterns, region_image, dead_neurons, encoding_slice, sample_pairs, hamming_distances, per_sample_gradients, gradient_confusion, spectral_norms)
from .audio import audio_player, audio_table, data_file, first_layer_hz, frequency_reach, plot_reconstruction, plot_spectrograms, plot_waveforms, spectrogram, wav_bytes
from .training import fast_cpu
from .poisson import (derivative_targets, target_scales, derivative_loss, fit_derivatives, fit_many_derivatives, derivatives, harmonic_basis, align, aligned_psnr, clone_targets, poisson_blend_reference, layer_outputs, near_zero_fraction, psnr_of, markdown_psnr_table)
