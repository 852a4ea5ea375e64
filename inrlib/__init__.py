"""inrlib: implicit neural representations (coordinate MLPs) for the INR Book."""
from .activations import ACTIVATIONS, Sine, SquareWave, TriangleWave, make_activation
from .audio import (audio_player, audio_table, data_file, first_layer_hz, frequency_reach,
                    plot_reconstruction, plot_spectrograms, plot_waveforms, spectrogram, wav_bytes)
from .diffops import derivatives, divergence, gradient, gradient_and_laplacian, laplacian
from .dynamics import (activation_patterns, count_patterns, dead_neurons, encoding_slice,
                       fit_tracked, frequency_amplitudes, frequency_convergence, gradient_confusion,
                       hamming_distances, pattern_ids, per_sample_gradients, random_image,
                       region_image, sample_pairs, spectral_norms, steps_to_learn, sum_of_sines)
from .encodings import ENCODINGS, FourierFeatures, PositionalEncoding, make_encoding
from .grids import grid, to_flat, to_signal
from .images import check_config, derivative_maps, every_other_pixel, pixel_centres
from .init import INITS, SEED001_SCHEMES, apply_init, register_init, siren_scheme
from .metrics import mse, psnr, psnr_from_mse, snr, ssim
from .models import INR, relu_mlp, siren
from .periodicity import (autocorrelation, central_lobe_radius, common_period,
                          linear_fit_residual, off_centre_peak, rational_gcd, ray_linearity,
                          render_window, shift_error, siren_period)
from .poisson import (align, aligned_psnr, clone_targets, derivative_loss, derivative_targets,
                      fit_derivatives, fit_many_derivatives, harmonic_basis,
                      layer_outputs, near_zero_fraction,
                      poisson_blend_reference, psnr_of, target_scales)
from .profile import PROFILES, Profile, device, get_profile
from .stats import markdown_table
from .signals import (IMAGE_NAMES, Signal, image_array, image_gradient, image_laplacian,
                      load_audio, load_image)
from .training import History, fast_cpu, fit, fit_many, predict
from .widgets import (STATIC_NOTE, LiveControls, StaticSlider, TrainingView, figure_png,
                      live_controls, live_fit, static_slider)

__version__ = "0.1.0"
