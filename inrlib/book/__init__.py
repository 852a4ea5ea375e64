"""The INR Book's analysis and display tools, one module per concern, on top of the inrlib core.

Import what a chapter uses by module: `from inrlib.book import audio, live`. These modules
may import matplotlib, scipy.stats and ipywidgets; the core (`inrlib`) never imports them.

- `images`: held-out pixels, resolution-aligned query grids, derivative maps, live-control checks
  (a configuration, and a run's length against the device's measured speed)
- `audio`: players, spectrograms, waveform and reconstruction figures, first-layer frequencies
- `poisson`: derivative targets and losses, alignment, seamless cloning
- `init_study`: the SIREN initialisation variants the initialisation chapter compares
- `stats`: activation statistics through depth, per-layer spectra, threshold tables
- `periodicity`: exact periods, far-field renders, autocorrelation
- `dynamics`: spectral bias over training (each frequency's residual, step by step)
- `regions`: ReLU activation regions, Hamming distances, gradient confusion
- `shapes`: 3-D shapes as signed distance functions, exact surface samples, oriented clouds
- `sdf`: the SDF loss (surface, normal, eikonal and off-surface terms)
- `meshes`: grid evaluation, marching cubes, Chamfer distance and normal consistency
- `render`: shaded renders of a zero level set
- `profiles`: the chapters' sizes, `quick` (CPU, CI) and `full` (GPU, paper size)
- `tables`: results as Markdown tables
- `comparison`: the after-SIREN chapter's protocol: parameter budgets, derivative scores, noise
- `sliders`: static sliders over precomputed frames (no kernel), and their compact PNG frames
- `live`: the one live-controls component (ipywidgets) and its training view
- `interrupt`: how a live click runs: a kernel interrupt delivered to its thread, one progress view
- `playground`: the in-page trainer (TensorFlow.js, in the reader's browser, from inrlib's weights)
- `claims`: a chapter's claims, asserted and shown as one line under their result
- `pagecheck`: checks of what a reader sees (figures, printed outputs, prose)
"""
