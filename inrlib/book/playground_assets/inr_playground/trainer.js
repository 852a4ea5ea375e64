/* INR Book in-page trainer: trains a coordinate MLP (SIREN, ReLU + PE, ReLU + Gaussian FF, ReLU)
 * full batch with Adam in the reader's browser, on TensorFlow.js (vendored next to this file).
 * The models, their initialisation and the optimiser follow inrlib (the Python package); the
 * page data (target, coordinates, inrlib's initial weights) come from inrlib.book.playground.
 * Public: window.INRPlayground.mount(element, data) -> api (also stored as element.inrPlayground).
 */
(function () {
  'use strict';
  if (window.INRPlayground) return;  // one engine per page, however many trainers it carries

  // ------------------------------------------------------------------ engine and backend
  let backendPromise = null;

  // A software WebGL (SwiftShader, llvmpipe) is slower than the WASM backend for these small
  // networks, so WebGL is preferred only with a real GPU behind it.
  function glRenderer() {
    try {
      const c = document.createElement('canvas');
      const gl = c.getContext('webgl2') || c.getContext('webgl');
      if (!gl) return null;
      const ext = gl.getExtension('WEBGL_debug_renderer_info');
      return String(ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
    } catch (e) { return null; }
  }

  function backendOrder(pref) {
    const r = glRenderer();
    const soft = !r || /swiftshader|llvmpipe|softpipe|software|basic render/i.test(r);
    const auto = soft ? ['wasm', 'webgl', 'cpu'] : ['webgl', 'wasm', 'cpu'];
    return pref ? [pref].concat(auto.filter(b => b !== pref)) : auto;
  }

  function initBackend(pref) {
    if (backendPromise) return backendPromise;
    backendPromise = (async () => {
      if (tf.wasm && window.INR_PLAYGROUND_WASM_SIMD) {
        // From file:// a .wasm file cannot be fetched (origin null): the binary travels as a
        // data URI. Only the SIMD build is carried; a browser without WASM SIMD gets WebGL/CPU.
        tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
        tf.wasm.setWasmPaths({'tfjs-backend-wasm-simd.wasm': window.INR_PLAYGROUND_WASM_SIMD,
                              'tfjs-backend-wasm.wasm': 'data:application/wasm;base64,',
                              'tfjs-backend-wasm-threaded-simd.wasm': 'data:application/wasm;base64,'});
      }
      const tried = [];
      for (const b of backendOrder(pref)) {
        try {
          const ok = await tf.setBackend(b);
          await tf.ready();
          // setBackend can fall back silently: read back the backend actually obtained
          if (ok && tf.getBackend() === b) {
            return {name: b, renderer: b === 'webgl' ? glRenderer() : null, tried};
          }
          tried.push(b + ': not available');
        } catch (e) { tried.push(b + ': ' + (e && e.message ? e.message : e)); }
      }
      throw new Error('no TensorFlow.js backend could start (' + tried.join('; ') + ')');
    })();
    return backendPromise;
  }

  // ------------------------------------------------------------------ numbers
  function b64ToF32(s) {
    const bin = atob(s);
    const u8 = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
    return new Float32Array(u8.buffer);
  }

  // Seeded PRNG (mulberry32) for weights drawn in the page (configurations inrlib did not export).
  function rng(seed) {
    let a = (seed >>> 0) ^ 0x9e3779b9;
    const next = () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const normal = () => {
      const u = 1 - next(), v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    };
    return {uniform: (lo, hi) => lo + (hi - lo) * next(), normal};
  }

  // ------------------------------------------------------------------ model description
  // spec: {act: 'sine'|'relu', enc: null | {name: 'posenc', L, include_input}
  //        | {name: 'fourier', sigma, n_features}, width, depth, inF, outF, first_omega,
  //        hidden_omega, seed}
  function encDim(spec) {
    const d = spec.inF, e = spec.enc;
    if (!e) return d;
    if (e.name === 'posenc') return d * (2 * e.L + (e.include_input ? 1 : 0));
    return 2 * e.n_features;
  }

  // gamma(x) on the CPU, once per set of coordinates (it has no trainable parameters).
  // Orders follow inrlib/encodings.py: posenc [x, sin(a), cos(a)] with a[k*d + j] = pi 2^k x_j;
  // Fourier [cos(2 pi B x), sin(2 pi B x)].
  function encode(spec, B, coords, n) {
    const d = spec.inF, e = spec.enc, D = encDim(spec);
    const out = new Float32Array(n * D);
    const f = Math.fround;
    for (let i = 0; i < n; i++) {
      const x = coords.subarray(i * d, i * d + d), o = i * D;
      if (!e) { for (let j = 0; j < d; j++) out[o + j] = x[j]; continue; }
      if (e.name === 'posenc') {
        let p = o;
        if (e.include_input) for (let j = 0; j < d; j++) out[p++] = x[j];
        const nA = e.L * d;
        for (let k = 0; k < e.L; k++) {
          const fr = f(Math.PI * Math.pow(2, k));
          for (let j = 0; j < d; j++) {
            const a = f(x[j] * fr);
            out[p + k * d + j] = Math.sin(a);
            out[p + nA + k * d + j] = Math.cos(a);
          }
        }
      } else {
        const m = e.n_features;
        for (let k = 0; k < m; k++) {
          let s = 0;
          for (let j = 0; j < d; j++) s = f(s + f(f(2 * Math.PI * x[j]) * B[k * d + j]));
          out[o + k] = Math.cos(s);
          out[o + m + k] = Math.sin(s);
        }
      }
    }
    return out;
  }

  // Initial weights drawn in the page with inrlib's laws: SIREN ("paper") first layer U(+-1/n),
  // later U(+-sqrt(6/n)/hidden_omega); otherwise PyTorch's default U(+-1/sqrt(n)); biases
  // U(+-1/sqrt(n)) in both. Weights are stored (in, out), the transpose of torch's (out, in).
  function drawWeights(spec, seed) {
    const r = rng(seed);
    const sizes = [encDim(spec)].concat(Array(spec.depth).fill(spec.width), [spec.outF]);
    const W = [], b = [];
    for (let i = 0; i + 1 < sizes.length; i++) {
      const n = sizes[i], m = sizes[i + 1];
      const bound = spec.act === 'sine' ? (i === 0 ? 1 / n : Math.sqrt(6 / n) / spec.hidden_omega)
                                        : 1 / Math.sqrt(n);
      const w = new Float32Array(n * m), bb = new Float32Array(m);
      for (let k = 0; k < w.length; k++) w[k] = r.uniform(-bound, bound);
      for (let k = 0; k < m; k++) bb[k] = r.uniform(-1 / Math.sqrt(n), 1 / Math.sqrt(n));
      W.push(w); b.push(bb);
    }
    let Bunit = null;
    if (spec.enc && spec.enc.name === 'fourier') {
      Bunit = new Float32Array(spec.enc.n_features * spec.inF);
      for (let k = 0; k < Bunit.length; k++) Bunit[k] = r.normal();
    }
    return {W, b, Bunit, B: null, sizes};
  }

  // ------------------------------------------------------------------ fast layers
  // A sine whose argument is first reduced to r in [-pi, pi] (r = z - k fl32(2 pi), k the
  // nearest whole number of turns; error below 5e-6 for |z| < 100), then an odd polynomial of
  // degree 9 in r; its derivative, cos, is an even polynomial of degree 10 in r^2, which the
  // forward pass leaves for the backward. Coefficients: least squares on 4000 Chebyshev nodes
  // of [-pi, pi] (numpy), max error 6e-6 (sin) and 8e-7 (cos). Elementwise multiply-adds run
  // at SIMD speed on the WASM backend, where tf.sin costs about 35 ns an element: 14 cheap
  // passes forward and 11 backward instead.
  const TWO_PI = 6.2831854820251465, INV_TWO_PI = 0.15915494309189535;
  const SIN_C = [0.9999791383743286, -0.1666240096092224, 0.008308847434818745,
                 -0.00019263131252955645, 2.1470298179337988e-06];
  const COS_C = [0.9999992251396179, -0.4999942183494568, 0.041659776121377945,
                 -0.001385878655128181, 2.420289456495084e-05, -2.1972753927457234e-07];
  function horner(c, x) {
    let p = tf.add(tf.mul(x, c[c.length - 1]), c[c.length - 2]);
    for (let i = c.length - 3; i >= 0; i--) p = tf.add(tf.mul(p, x), c[i]);
    return p;
  }
  // {y: sin(z), keep: what sineGrad needs}
  function sine(z) {
    if (SINE_MODE === 'tf') return {y: tf.sin(z), keep: z};
    const r = tf.sub(z, tf.mul(tf.round(tf.mul(z, INV_TWO_PI)), TWO_PI));
    const r2 = tf.square(r);
    return {y: tf.mul(horner(SIN_C, r2), r), keep: r2};
  }
  function sineGrad(keep) {
    return SINE_MODE === 'tf' ? tf.cos(keep) : horner(COS_C, keep);
  }

  // How sine layers compute: 'poly' (the default), the polynomials above as tensor ops, or
  // 'tf': tf.sin and tf.cos (for comparison: 2 to 3 times slower on WASM). A sine computed in a
  // JavaScript loop over the tensor's data was measured too: slower than either on WASM.
  let SINE_MODE = 'poly';

  const ones = {};
  function onesRow(n) {  // kept across steps (one per size), outside every tidy
    if (!ones[n] || ones[n].isDisposed) ones[n] = tf.keep(tf.ones([1, n]));
    return ones[n];
  }

  // One layer y = act((W h + b) * omega) as a custom gradient: the backward products transpose
  // their operands explicitly, since a matMul with a transposed operand is a scalar loop on the
  // WASM backend. `h` given as a constant (the encoded input) gets no gradient.
  function makeLayer(act, omega, hConst, hConstT) {
    const fwd = (h, W, b) => {
      const Wf = omega === 1 ? W : tf.mul(W, omega), bf = omega === 1 ? b : tf.mul(b, omega);
      const z = tf.fused.matMul({a: h, b: Wf, bias: bf, activation: act === 'relu' ? 'relu' : 'linear'});
      if (act !== 'sine') return {Wf, z, y: z};  // relu(z) > 0 exactly where z > 0
      const s = sine(z);
      return {Wf, z: s.keep, y: s.y};
    };
    // z: for a sine layer what sine() keeps for its derivative, else the layer's output
    const back = (dy, h, hT, Wf, z, wantH) => {
      let dz = dy;
      if (act === 'sine') dz = tf.mul(dy, sineGrad(z));
      else if (act === 'relu') dz = tf.mul(dy, tf.step(z));
      // the bias gradient as a product with a row of ones: 30x faster than tf.sum(dz, 0) on WASM
      // with one output (the last layer of a grey image) dz^T is a free reshape, and dW^T = dz^T h
      // saves transposing h
      let dW = dz.shape[1] === 1 && !hT
        ? tf.reshape(tf.matMul(tf.reshape(dz, [1, dz.shape[0]]), h), [h.shape[1], 1])
        : tf.matMul(hT || tf.transpose(h), dz);
      let db = tf.reshape(tf.matMul(onesRow(dz.shape[0]), dz), [dz.shape[1]]);
      if (omega !== 1) { dW = tf.mul(dW, omega); db = tf.mul(db, omega); }
      const dh = wantH ? tf.matMul(dz, tf.transpose(Wf)) : null;
      return {dh, dW, db};
    };
    if (hConst) {
      // The engine keeps only the forward's saved tensors for the backward, and disposes them
      // after it: everything the backward reads is saved as a clone (a clone shares the data,
      // so disposing it leaves the layer's output, the previous layer's output and the weight
      // variables alive). The constant encoded input is reached by closure.
      return tf.customGrad((W, b, save) => {
        const {z, y} = fwd(hConst, W, b);
        save([tf.clone(z)]);
        return {value: y, gradFunc: (dy, [zz]) => {
          const g = back(dy, hConst, hConstT, null, zz, false);
          return [g.dW, g.db];
        }};
      });
    }
    return tf.customGrad((h, W, b, save) => {
      const {Wf, z, y} = fwd(h, W, b);
      save([z, h, Wf].map(t => tf.clone(t)));
      return {value: y, gradFunc: (dy, saved) => {
        const g = back(dy, saved[1], null, saved[2], saved[0], true);
        return [g.dh, g.dW, g.db];
      }};
    });
  }

  // ------------------------------------------------------------------ the network
  class Net {
    constructor(spec, init, coords, n, target) {
      this.spec = spec;
      const B = init.B || (init.Bunit && spec.enc ? init.Bunit.map(v => Math.fround(v * spec.enc.sigma)) : null);
      this.B = B;
      this.W = init.W.map((w, i) => tf.variable(tf.tensor2d(w, [init.sizes[i], init.sizes[i + 1]])));
      this.b = init.b.map(bb => tf.variable(tf.tensor1d(bb)));
      this.vars = [];
      for (let i = 0; i < this.W.length; i++) this.vars.push(this.W[i], this.b[i]);
      this.m = this.vars.map(v => tf.variable(tf.zerosLike(v)));
      this.v = this.vars.map(v => tf.variable(tf.zerosLike(v)));
      this.t = 0;
      this.X = tf.tensor2d(encode(spec, B, coords, n), [n, encDim(spec)]);
      this.XT = tf.transpose(this.X);
      this.T = tf.tensor2d(target, [n, spec.outF]);
      this.layers = this.makeLayers(this.X, this.XT);
      // The mean squared error with its own gradient 2 (pred - T) / n: every op of the step then
      // has a custom gradient, so the page needs none of tfjs's registered gradients (which
      // tf-core.min.js does not carry).
      const scale = 2 / this.T.size;
      this.mse = tf.customGrad((p, save) => {
        const e = tf.sub(p, this.T);
        save([e]);
        return {value: tf.mean(tf.square(e)), gradFunc: (dy, [ee]) => [tf.mul(ee, tf.mul(dy, scale))]};
      });
    }
    makeLayers(X, XT) {
      const s = this.spec, L = [];
      for (let i = 0; i <= s.depth; i++) {
        const last = i === s.depth;
        const act = last ? 'linear' : s.act;
        const omega = act === 'sine' ? (i === 0 ? s.first_omega : s.hidden_omega) : 1;
        L.push(makeLayer(act, omega, i === 0 ? X : null, i === 0 ? XT : null));
      }
      return L;
    }
    forward(layers) {
      let h = layers[0](this.W[0], this.b[0]);
      for (let i = 1; i < layers.length; i++) h = layers[i](h, this.W[i], this.b[i]);
      return h;
    }
    // One full-batch Adam step as torch.optim.Adam does it (bias corrections, eps added to
    // sqrt(v_hat)); returns the loss and the prediction of the forward pass before the update.
    step(lr, eps) {
      const b1 = 0.9, b2 = 0.999;
      this.t += 1;
      const bc1 = 1 - Math.pow(b1, this.t), bc2 = Math.sqrt(1 - Math.pow(b2, this.t));
      return tf.tidy(() => {
        let pred = null;
        const {value, grads} = tf.variableGrads(() => {
          // variableGrads disposes what its function made and does not return: keep the
          // prediction (the caller disposes it)
          pred = tf.keep(this.forward(this.layers));
          return this.mse(pred);
        }, this.vars);
        this.vars.forEach((p, i) => {
          const g = grads[p.name];
          const m = tf.add(tf.mul(this.m[i], b1), tf.mul(g, 1 - b1));
          const v = tf.add(tf.mul(this.v[i], b2), tf.mul(tf.square(g), 1 - b2));
          this.m[i].assign(m); this.v[i].assign(v);
          p.assign(tf.sub(p, tf.mul(tf.div(m, tf.add(tf.div(tf.sqrt(v), bc2), eps)), lr / bc1)));
        });
        return {loss: tf.keep(value), pred};
      });
    }
    predict(coords, n) {
      const X = tf.tensor2d(encode(this.spec, this.B, coords, n), [n, encDim(this.spec)]);
      const out = tf.tidy(() => this.forward(this.makeLayers(X, null)));
      const data = out.dataSync();
      out.dispose(); X.dispose();
      return data;
    }
    weights() { return this.vars.map(v => v.dataSync()); }
    dispose() {
      [...this.vars, ...this.m, ...this.v, this.X, this.XT, this.T].forEach(t => t.dispose());
    }
  }

  // ------------------------------------------------------------------ drawing
  const MAGMA = [[0, 0, 4], [40, 11, 84], [101, 21, 110], [159, 42, 99], [212, 72, 66],
                 [245, 125, 21], [250, 193, 39], [252, 253, 191]];
  function cmap(t) {
    t = Math.min(1, Math.max(0, t)) * (MAGMA.length - 1);
    const i = Math.min(MAGMA.length - 2, Math.floor(t)), f = t - i;
    return MAGMA[i].map((c, k) => c + f * (MAGMA[i + 1][k] - c));
  }
  function drawImage(canvas, vals, H, W, C, lo, hi, colour) {
    canvas.width = W; canvas.height = H;
    const ctx = canvas.getContext('2d'), im = ctx.createImageData(W, H);
    for (let p = 0; p < H * W; p++) {
      let rgb;
      if (colour) rgb = colour(p);
      else if (C === 3) rgb = [0, 1, 2].map(c => 255 * (vals[p * 3 + c] - lo) / (hi - lo));
      else { const g = 255 * (vals[p * C] - lo) / (hi - lo); rgb = [g, g, g]; }
      im.data[4 * p] = rgb[0]; im.data[4 * p + 1] = rgb[1]; im.data[4 * p + 2] = rgb[2];
      im.data[4 * p + 3] = 255;
    }
    ctx.putImageData(im, 0, 0);
  }
  // log |DFT| of a grey (H, W) image, centred: a direct separable DFT (any size) with its
  // twiddle factors tabulated once per size.
  const twiddles = {};
  function twiddle(n) {
    if (!twiddles[n]) {
      const c = new Float64Array(n * n), s = new Float64Array(n * n);
      for (let u = 0; u < n; u++) for (let j = 0; j < n; j++) {
        const a = -2 * Math.PI * ((u * j) % n) / n;
        c[u * n + j] = Math.cos(a); s[u * n + j] = Math.sin(a);
      }
      twiddles[n] = {c, s};
    }
    return twiddles[n];
  }
  function spectrum(vals, H, W, C) {
    const tw = twiddle(W), th = twiddle(H);
    const re1 = new Float64Array(H * W), im1 = new Float64Array(H * W);
    for (let i = 0; i < H; i++) for (let u = 0; u < W; u++) {
      let sr = 0, si = 0;
      for (let j = 0; j < W; j++) {
        const v = vals[(i * W + j) * C];
        sr += v * tw.c[u * W + j]; si += v * tw.s[u * W + j];
      }
      re1[i * W + u] = sr; im1[i * W + u] = si;
    }
    const out = new Float32Array(H * W);
    for (let u = 0; u < W; u++) for (let k = 0; k < H; k++) {
      let sr = 0, si = 0;
      for (let i = 0; i < H; i++) {
        const c = th.c[k * H + i], s = th.s[k * H + i], a = re1[i * W + u], b = im1[i * W + u];
        sr += a * c - b * s; si += a * s + b * c;
      }
      const kk = (k + (H >> 1)) % H, uu = (u + (W >> 1)) % W;
      out[kk * W + uu] = Math.log10(1e-3 + Math.hypot(sr, si));
    }
    return out;
  }
  function plotLines(canvas, series, opts) {
    const ctx = canvas.getContext('2d'), Wd = canvas.width, Hd = canvas.height;
    ctx.clearRect(0, 0, Wd, Hd);
    ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, Wd, Hd);
    const m = {l: 38, r: 8, t: 14, b: 20};
    const all = series.flatMap(s => s.y.filter(Number.isFinite));
    if (!all.length) return;
    let lo = opts.ylo !== undefined ? opts.ylo : Math.min(...all), hi = opts.yhi !== undefined ? opts.yhi : Math.max(...all);
    if (hi - lo < 1e-9) { hi += 1; lo -= 1; }
    const xlo = opts.xlo, xhi = opts.xhi > opts.xlo ? opts.xhi : opts.xlo + 1;
    const X = x => m.l + (Wd - m.l - m.r) * (x - xlo) / (xhi - xlo);
    const Y = y => Hd - m.b - (Hd - m.t - m.b) * (y - lo) / (hi - lo);
    ctx.strokeStyle = '#999'; ctx.strokeRect(m.l, m.t, Wd - m.l - m.r, Hd - m.t - m.b);
    ctx.fillStyle = '#333'; ctx.font = '10px sans-serif';
    ctx.fillText(hi.toFixed(opts.digits || 1), 2, m.t + 8); ctx.fillText(lo.toFixed(opts.digits || 1), 2, Hd - m.b);
    ctx.fillText(opts.title || '', m.l + 4, 10);
    ctx.fillText(String(xlo), m.l, Hd - 6); ctx.fillText(String(opts.xhi), Wd - m.r - 30, Hd - 6);
    for (const s of series) {
      ctx.strokeStyle = s.color; ctx.lineWidth = s.width || 1.2; ctx.beginPath();
      let on = false;
      for (let i = 0; i < s.y.length; i++) {
        if (!Number.isFinite(s.y[i])) { on = false; continue; }
        const px = X(s.x ? s.x[i] : i), py = Y(s.y[i]);
        if (on) ctx.lineTo(px, py); else ctx.moveTo(px, py);
        on = true;
      }
      ctx.stroke();
    }
    if (opts.band) {  // the training range, in a wider view
      ctx.fillStyle = 'rgba(0,0,255,0.07)';
      ctx.fillRect(X(opts.band[0]), m.t, X(opts.band[1]) - X(opts.band[0]), Hd - m.t - m.b);
    }
  }

  // ------------------------------------------------------------------ the page widget
  const NETS = {
    siren: 'SIREN', relu_pe: 'ReLU + PE', relu_ff: 'ReLU + Gaussian FF', relu: 'ReLU'};

  function el(tag, attrs, parent, text) {
    const e = document.createElement(tag);
    for (const k in (attrs || {})) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }

  function mount(root, data) {
    root.innerHTML = '';
    root.classList.add('inr-playground');
    const is2d = data.shape.length === 2;
    const C = data.channels, N = data.n;
    const coords = b64ToF32(data.coords), target = b64ToF32(data.target);
    const [vlo, vhi] = data.value_range;
    const models = data.models;  // kind -> {label, spec, lr, init: {W: [...], b: [...], B, Bunit}}
    const state = {status: 'loading', step: 0, psnr: [], loss: [], backend: null, message: '',
                   stepsPerSecond: null, freqSteps: [], freqAmps: [], weightsSource: null};
    root.setAttribute('data-status', 'loading');

    // --- controls
    const bar = el('div', {class: 'inr-pg-controls'}, root);
    const ctl = {};
    const shown = new Set(data.controls);
    function field(name, label, input) {
      const w = el('label', {class: 'inr-pg-field', 'data-control': name}, bar);
      el('span', {}, w, label + ' ');
      w.appendChild(input);
      if (!shown.has(name)) w.style.display = 'none';
      ctl[name] = input;
      return input;
    }
    function number(name, label, value, attrs) {
      return field(name, label, el('input', Object.assign({type: 'number', value: String(value)}, attrs || {})));
    }
    const sel = field('model', 'network', el('select'));
    for (const k of Object.keys(models)) el('option', {value: k}, sel, models[k].label);
    const d = data.defaults;
    number('omega', 'ω0', d.omega, {min: '0.1', max: '300', step: 'any', title: 'SIREN first-layer ω0 (any value, e.g. 17)'});
    const omegaSlider = el('input', {type: 'range', min: '-1', max: '2.5', step: '0.01', value: String(Math.log10(d.omega)), title: 'ω0 on a log scale'});
    ctl.omega.parentNode.appendChild(omegaSlider);
    omegaSlider.addEventListener('input', () => { ctl.omega.value = String(+Math.pow(10, +omegaSlider.value).toPrecision(3)); changed(); });
    number('L', 'L', d.L, {min: '0', max: '16', step: '1', title: 'PE frequencies (0: no encoding)'});
    number('sigma', 'σ', d.sigma, {min: '0.01', max: '1000', step: 'any', title: 'Gaussian FF scale'});
    const wsel = field('width', 'width', el('select'));
    for (const w of [16, 32, 64, 128, 256]) el('option', {value: String(w)}, wsel, String(w));
    wsel.value = String(d.width);
    number('depth', 'depth', d.depth, {min: '1', max: '8', step: '1'});
    number('lr', 'learning rate', d.lr, {min: '0', step: 'any'});
    number('steps', 'steps', d.steps, {min: '1', max: '100000', step: '1'});
    number('seed', 'seed', d.seed, {min: '0', step: '1'});
    const vsel = field('view', 'view', el('select'));
    el('option', {value: 'train'}, vsel, 'training grid');
    el('option', {value: 'wide'}, vsel, 'wider: ×' + data.extent + ' the range');
    el('option', {value: 'fine'}, vsel, 'finer: ×' + data.finer + ' samples');
    vsel.value = d.view || 'train';
    const btns = el('span', {class: 'inr-pg-buttons'}, bar);
    const bStart = el('button', {type: 'button'}, btns, 'start');
    const bPause = el('button', {type: 'button'}, btns, 'pause');
    const bReset = el('button', {type: 'button'}, btns, 'reset');
    sel.value = d.model;

    // --- panels
    const panels = el('div', {class: 'inr-pg-panels'}, root);
    function panel(title, w, h) {
      const f = el('figure', {class: 'inr-pg-panel'}, panels);
      const c = el('canvas', {width: String(w), height: String(h)}, f);
      const cap = el('figcaption', {}, f, title);
      return {c, cap, f};
    }
    let P = {};
    if (is2d) {
      const [H, W] = data.shape;
      P.target = panel('target', W, H);
      P.recon = panel('reconstruction', W, H);
      P.error = panel('|error|', W, H);
      P.specT = panel('target spectrum (log |FFT|)', W, H);
      P.specR = panel('reconstruction spectrum', W, H);
      for (const k in P) { P[k].c.style.width = Math.max(128, Math.min(192, 3 * W)) + 'px'; P[k].c.style.imageRendering = 'pixelated'; }
      drawImage(P.target.c, target, H, W, C, vlo, vhi);
      if (C === 1) {
        const sT = spectrum(target, H, W, C);
        state.specLo = Math.min(...sT); state.specHi = Math.max(...sT);
        drawImage(P.specT.c, null, H, W, 1, 0, 1, p => cmap((sT[p] - state.specLo) / (state.specHi - state.specLo)));
      } else { P.specT.f.style.display = 'none'; P.specR.f.style.display = 'none'; }
    } else {
      P.signal = panel('target and reconstruction', 420, 170);
      if (data.freqs && data.freqs.length) P.freq = panel('|residual| / |target| at each frequency (rows) over the steps', 420, 170);
    }
    P.psnr = panel('PSNR (dB) over the steps', 420, 150);
    const status = el('div', {class: 'inr-pg-status', role: 'status'}, root);
    const note = el('div', {class: 'inr-pg-note'}, root);

    // --- state and training loop
    let net = null, running = false, runToken = 0, pred = null;

    function readConfig() {
      const kind = sel.value, base = models[kind].spec;
      const num = (name, whole) => {
        const v = Number(ctl[name].value);
        if (!Number.isFinite(v) || (whole && !Number.isInteger(v))) throw new Error(name + ' must be a ' + (whole ? 'whole ' : '') + 'number, got "' + ctl[name].value + '"');
        return v;
      };
      const spec = JSON.parse(JSON.stringify(base));
      spec.width = num('width', true); spec.depth = num('depth', true); spec.seed = num('seed', true);
      if (spec.width < 1 || spec.width > 256) throw new Error('width must be 1 to 256 (a wider network would stall the page), got ' + spec.width);
      if (spec.depth < 1 || spec.depth > 8) throw new Error('depth must be 1 to 8, got ' + spec.depth);
      if (spec.act === 'sine') {
        spec.first_omega = num('omega');
        if (!(spec.first_omega > 0)) throw new Error('ω0 must be > 0, got ' + spec.first_omega);
      }
      if (kind === 'relu_pe') {
        const L = num('L', true);
        if (L < 0 || L > 16) throw new Error('L must be 0 to 16, got ' + L);
        spec.enc = L === 0 ? null : Object.assign({}, base.enc, {L});  // L = 0: a plain ReLU
      }
      if (spec.enc && spec.enc.name === 'fourier') {
        spec.enc.sigma = num('sigma');
        if (!(spec.enc.sigma > 0)) throw new Error('σ must be > 0, got ' + spec.enc.sigma);
      }
      const lr = num('lr');
      if (!(lr > 0)) throw new Error('the learning rate must be > 0, got ' + lr);
      const steps = num('steps', true);
      if (steps < 1) throw new Error('steps must be >= 1, got ' + steps);
      return {kind, spec, lr, steps};
    }

    // inrlib's exported weights are used when they fit: same widths, depth, seed and encoding
    // size (omega and sigma do not change what inrlib draws, see playground.py).
    function initFor(kind, spec) {
      const ex = models[kind], es = ex.spec;
      const same = spec.width === es.width && spec.depth === es.depth && spec.seed === es.seed &&
                   JSON.stringify(spec.enc && {n: spec.enc.name, L: spec.enc.L, i: spec.enc.include_input, f: spec.enc.n_features}) ===
                   JSON.stringify(es.enc && {n: es.enc.name, L: es.enc.L, i: es.enc.include_input, f: es.enc.n_features});
      if (!same) { state.weightsSource = 'drawn in the page (seed ' + spec.seed + ')'; return drawWeights(spec, spec.seed); }
      state.weightsSource = "inrlib's (seed " + es.seed + ')';
      const W = ex.init.W.map(b64ToF32), b = ex.init.b.map(b64ToF32);
      const sizes = [encDim(spec)].concat(Array(spec.depth).fill(spec.width), [spec.outF]);
      let B = null, Bunit = null;
      if (spec.enc && spec.enc.name === 'fourier') {
        Bunit = b64ToF32(ex.init.Bunit);
        if (spec.enc.sigma === es.enc.sigma) B = b64ToF32(ex.init.B);
      }
      return {W, b, B, Bunit, sizes};
    }

    function setStatus(s, msg) {
      state.status = s; root.setAttribute('data-status', s);
      if (msg !== undefined) { state.message = msg; note.textContent = msg; }
      renderStatus();
    }
    function renderStatus() {
      const be = state.backend ? state.backend.name + (state.backend.name === 'wasm' ? ' (WebAssembly SIMD, CPU)' : state.backend.name === 'webgl' ? ' (WebGL' + (state.backend.renderer ? ': ' + state.backend.renderer : '') + ')' : ' (plain JavaScript)') : '…';
      const ps = state.psnr.length ? state.psnr[state.psnr.length - 1].toFixed(2) + ' dB' : '–';
      const sps = state.stepsPerSecond ? state.stepsPerSecond.toFixed(1) + ' steps/s' : '';
      status.textContent = 'TensorFlow.js ' + (window.tf ? tf.version_core : '') + ', backend ' + be +
        ' · ' + state.status + ' · step ' + state.step + ' · PSNR ' + ps + (sps ? ' · ' + sps : '') +
        (state.weightsSource ? ' · initial weights ' + state.weightsSource : '');
    }

    function reset() {
      runToken++; running = false;
      if (net) { net.dispose(); net = null; }
      if (pred) { pred = null; }
      state.step = 0; state.psnr = []; state.loss = []; state.stepsPerSecond = null;
      state.freqSteps = []; state.freqAmps = []; state.cfg = null; viewCache = null;
      note.textContent = '';
      draw(true);
      setStatus(state.backend ? 'ready' : state.status);
    }

    function build() {
      const cfg = readConfig();
      const init = initFor(cfg.kind, cfg.spec);
      net = new Net(cfg.spec, init, coords, N, target);
      state.cfg = cfg;
    }

    // Yield to the browser between steps (a MessageChannel message does not suffer the 4 ms
    // clamp of nested setTimeout), so input is handled between any two steps; every 200 ms
    // wait for an animation frame, so that the page repaints.
    const chan = new MessageChannel(), waiting = [];
    chan.port1.onmessage = () => { const r = waiting.shift(); if (r) r(); };
    const yieldNow = () => new Promise(r => { waiting.push(r); chan.port2.postMessage(0); });
    const frame = () => new Promise(r => (typeof requestAnimationFrame === 'function' && !document.hidden) ? requestAnimationFrame(() => r()) : setTimeout(r, 0));

    async function start() {
      if (running) return;
      if (!state.backend) return;
      try {
        if (!net) build();
        else {  // lr and steps may change between pause and start; the network may not
          const cfg = readConfig();
          if (cfg.kind !== state.cfg.kind || JSON.stringify(cfg.spec) !== JSON.stringify(state.cfg.spec)) {
            reset(); build();
          } else { state.cfg.lr = cfg.lr; state.cfg.steps = cfg.steps; }
        }
      } catch (e) { setStatus('error', String(e.message || e)); return; }
      if (state.step >= state.cfg.steps) { setStatus('done'); return; }
      running = true; const token = ++runToken;
      setStatus('training', '');
      let t0 = performance.now(), s0 = state.step, lastDraw = 0, lastFrame = performance.now();
      const initialLoss = state.loss.length ? state.loss[0] : null;
      try {
        while (running && token === runToken && state.step < state.cfg.steps) {
          const {loss, pred: p} = net.step(state.cfg.lr, data.adam_eps);
          const lv = (await loss.data())[0];
          loss.dispose();
          state.step += 1;
          const first = state.loss.length ? state.loss[0] : lv;
          // a NaN, an infinite loss, or one 10^6 times the first: training has diverged
          if (!Number.isFinite(lv) || lv > 1e6 * Math.max(first, 1e-12)) {
            p.dispose();
            running = false;
            setStatus('diverged', 'diverged at step ' + state.step + ': lower the learning rate' +
                      ' (loss ' + (Number.isFinite(lv) ? lv.toExponential(2) : String(lv)) + ')');
            draw(true);
            return;
          }
          state.loss.push(lv);
          state.psnr.push(10 * Math.log10(data.data_range * data.data_range / Math.max(lv, 1e-20)));
          const now = performance.now();
          const last = state.step >= state.cfg.steps;
          const redraw = now - lastDraw > 250 || last;  // about 4 redraws a second
          // the per-frequency residuals are sampled about 100 times a run, drawn or not
          if (P.freq && (state.step % Math.max(1, Math.floor(state.cfg.steps / 100)) === 0 || redraw)) {
            pred = await p.data();
            trackFrequencies();
          }
          if (redraw) {
            pred = await p.data();
            state.stepsPerSecond = (state.step - s0) / ((now - t0) / 1000);
            draw(false);
            lastDraw = performance.now();
          }
          p.dispose();
          if (performance.now() - lastFrame > 200) { await frame(); lastFrame = performance.now(); }
          else await yieldNow();
        }
      } catch (e) {
        running = false;
        setStatus('error', 'training stopped: ' + (e && e.message ? e.message : e));
        return;
      }
      if (token !== runToken) return;
      running = false;
      if (state.step >= state.cfg.steps) { pred = net ? await predNow() : pred; draw(true); setStatus('done'); }
      else setStatus('paused');
    }
    async function predNow() {  // the trained network on the training coordinates
      return net.predict(coords, N);
    }

    // The wider and finer views evaluate the network on up to 16 times the training points: while
    // it trains they are recomputed at most once a second (and at the end), not at every redraw.
    let viewCache = null;
    function evalView(fresh) {
      const view = vsel.value;
      if (view === 'train' || !net) return null;
      if (!fresh && viewCache && viewCache.view === view && performance.now() - viewCache.t < 1000) return viewCache.out;
      const out = computeView(view);
      viewCache = {view, out, t: performance.now()};
      return out;
    }
    function computeView(view) {
      const lo = data.coord_range[0], hi = data.coord_range[1];
      const f = view === 'fine' ? data.finer : 1, ext = view === 'wide' ? data.extent : 1;
      const mid = (lo + hi) / 2, half = (hi - lo) / 2 * ext;
      // wide: an image at half its training density or better, a 1-D signal at full density
      const shp = data.shape.map(s => view === 'fine' ? s * f : is2d ? s * Math.ceil(ext / 2) : Math.round(s * ext));
      const n = shp.reduce((a, b) => a * b, 1), d = shp.length;
      const xs = new Float32Array(n * d);
      const lin = (k, s) => s === 1 ? mid - half : (mid - half) + 2 * half * k / (s - 1);
      if (d === 1) for (let i = 0; i < n; i++) xs[i] = lin(i, n);
      else for (let i = 0; i < shp[0]; i++) for (let j = 0; j < shp[1]; j++) {
        xs[2 * (i * shp[1] + j)] = lin(i, shp[0]); xs[2 * (i * shp[1] + j) + 1] = lin(j, shp[1]);
      }
      return {shape: shp, xs, vals: net.predict(xs, n), lo: mid - half, hi: mid + half};
    }

    function trackFrequencies() {  // the residual at each frequency of the prediction of this step
      const last = state.freqSteps[state.freqSteps.length - 1];
      if (last !== state.step) { state.freqSteps.push(state.step); state.freqAmps.push(freqResiduals()); }
    }
    function freqResiduals() {  // relative residual amplitude at each known frequency
      const n = N, out = [];
      for (const f of data.freqs) {
        let rr = 0, ri = 0, tr = 0, ti = 0;
        for (let j = 0; j < n; j++) {
          const a = -2 * Math.PI * f * j / n, c = Math.cos(a), s = Math.sin(a);
          const e = target[j] - pred[j];
          rr += e * c; ri += e * s; tr += target[j] * c; ti += target[j] * s;
        }
        out.push(Math.hypot(rr, ri) / Math.max(Math.hypot(tr, ti), 1e-12));
      }
      return out;
    }

    function draw(final) {
      const xmax = state.cfg ? state.cfg.steps : Number(ctl.steps.value) || 1;
      plotLines(P.psnr.c, [{y: state.psnr, x: state.psnr.map((_, i) => i + 1), color: '#1f77b4'}],
                {xlo: 0, xhi: xmax, title: 'PSNR (dB)'});
      const view = evalView(final);
      if (is2d) {
        const [H, W] = data.shape;
        if (!pred) {
          for (const k of ['recon', 'error', 'specR']) { const c = P[k].c; c.getContext('2d').clearRect(0, 0, c.width, c.height); }
          return;
        }
        if (view) {
          drawImage(P.recon.c, view.vals, view.shape[0], view.shape[1], C, vlo, vhi);
          P.recon.cap.textContent = 'reconstruction on [' + view.lo.toFixed(2) + ', ' + view.hi.toFixed(2) + ']², ' + view.shape[0] + '×' + view.shape[1];
          if (vsel.value === 'wide') {  // outline the training square
            const ctx = P.recon.c.getContext('2d'), s = view.shape[0] / data.extent, o = (view.shape[0] - s) / 2;
            ctx.strokeStyle = 'rgba(255,64,64,0.9)'; ctx.lineWidth = 1; ctx.strokeRect(o, o, s, s);
          }
        } else {
          drawImage(P.recon.c, pred, H, W, C, vlo, vhi);
          P.recon.cap.textContent = 'reconstruction';
        }
        let emax = 0;
        for (let k = 0; k < pred.length; k++) emax = Math.max(emax, Math.abs(pred[k] - target[k]));
        drawImage(P.error.c, null, H, W, C, 0, 1, p => {
          let e = 0; for (let c = 0; c < C; c++) e += Math.abs(pred[p * C + c] - target[p * C + c]) / C;
          return cmap(e / (vhi - vlo) * 4);
        });
        P.error.cap.textContent = '|error| (max ' + emax.toFixed(3) + ')';
        if (C === 1 && (final || state.step % 3 === 0 || true)) {
          const sR = spectrum(pred, H, W, C);
          drawImage(P.specR.c, null, H, W, 1, 0, 1, p => cmap((sR[p] - state.specLo) / (state.specHi - state.specLo)));
        }
      } else {
        const xsT = [], ysT = [];
        for (let j = 0; j < N; j++) { xsT.push(coords[j]); ysT.push(target[j]); }
        const series = [{x: xsT, y: ysT, color: '#777', width: 1}];
        let band = null;
        if (pred) {
          if (view) {
            const xv = Array.from(view.xs);
            series.push({x: xv, y: Array.from(view.vals), color: '#d62728'});
            band = data.coord_range;
          } else series.push({x: xsT, y: Array.from(pred), color: '#d62728'});
        }
        const xlo = view ? view.lo : data.coord_range[0], xhi = view ? view.hi : data.coord_range[1];
        plotLines(P.signal.c, series, {xlo, xhi, title: 'target (grey), network (red)', band, digits: 2});
        if (P.freq && pred) {
          trackFrequencies();
          drawHeat(P.freq.c, state.freqSteps, state.freqAmps, data.freqs, xmax);
        }
      }
      renderStatus();
    }

    function drawHeat(canvas, steps, amps, freqs, xmax) {
      const ctx = canvas.getContext('2d'), Wd = canvas.width, Hd = canvas.height;
      const m = {l: 34, r: 6, t: 14, b: 18};
      ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, Wd, Hd);
      const K = freqs.length, rowH = (Hd - m.t - m.b) / K, X = s => m.l + (Wd - m.l - m.r) * s / xmax;
      for (let t = 0; t < steps.length; t++) {
        const x0 = X(t ? steps[t - 1] : 0), x1 = X(steps[t]);
        for (let k = 0; k < K; k++) {
          const c = cmap(amps[t][k]);
          ctx.fillStyle = 'rgb(' + c.map(Math.round).join(',') + ')';
          ctx.fillRect(x0, Hd - m.b - (k + 1) * rowH, Math.max(1, x1 - x0 + 0.5), rowH);
        }
      }
      ctx.fillStyle = '#333'; ctx.font = '10px sans-serif';
      for (let k = 0; k < K; k++) ctx.fillText('f=' + freqs[k], 2, Hd - m.b - k * rowH - rowH / 2 + 3);
      ctx.fillText('0', m.l, Hd - 5); ctx.fillText(String(xmax), Wd - m.r - 30, Hd - 5);
      ctx.fillText('black: learnt, yellow: not yet', m.l + 4, 10);
    }

    // a change to the network or its initialisation starts over (lr and steps do not)
    function changed() { reset(); }
    function relevance() {
      const kind = sel.value;
      const on = {omega: kind === 'siren', L: kind === 'relu_pe', sigma: kind === 'relu_ff'};
      for (const k in on) ctl[k].parentNode.style.opacity = on[k] ? '1' : '0.4';
      ctl.L.disabled = !on.L; ctl.omega.disabled = !on.omega; omegaSlider.disabled = !on.omega; ctl.sigma.disabled = !on.sigma;
    }
    sel.addEventListener('change', () => { ctl.lr.value = String(models[sel.value].lr); relevance(); changed(); });
    for (const k of ['omega', 'L', 'sigma', 'width', 'depth', 'seed']) ctl[k].addEventListener('change', () => {
      if (k === 'omega') { const v = Number(ctl.omega.value); if (v > 0) omegaSlider.value = String(Math.log10(v)); }
      changed();
    });
    vsel.addEventListener('change', () => draw(true));
    bStart.addEventListener('click', () => { start(); });
    bPause.addEventListener('click', () => { if (running) { running = false; runToken++; setStatus('paused'); } });
    bReset.addEventListener('click', () => reset());
    relevance();
    draw(true);

    const api = {
      state, start, reset, draw,
      pause: () => bPause.click(),
      set(name, value) {  // as a reader would: set the control and fire its change event
        const c = name === 'model' ? sel : ctl[name];
        if (!c) throw new Error('no control ' + name);
        c.value = String(value);
        c.dispatchEvent(new Event('change'));
      },
      async train(opts) {  // for tests and benchmarks: set controls, train to the end
        for (const k in (opts || {})) api.set(k, opts[k]);
        await start();
        return state;
      },
      weights: () => net ? net.weights() : null,
      // for the benchmark: n training steps of the current settings, without drawing or
      // yielding; returns steps per second
      async timeSteps(n) {
        if (!net) build();
        const t0 = performance.now();
        for (let i = 0; i < n; i++) {
          const r = net.step(state.cfg.lr, data.adam_eps);
          await r.loss.data(); r.loss.dispose(); r.pred.dispose();
        }
        return n / ((performance.now() - t0) / 1000);
      },
      prediction: () => pred,
      sineMode: v => { if (v !== undefined) { if (!['poly', 'tf'].includes(v)) throw new Error('sine mode must be poly or tf, got ' + v); SINE_MODE = v; } return SINE_MODE; },
    };
    root.inrPlayground = api;

    initBackend(data.backend || null).then(b => {
      state.backend = b;
      setStatus('ready', data.autostart ? '' : 'Press start to train in this page.');
      if (data.autostart) start();
    }, e => setStatus('error', 'the trainer could not start: ' + (e.message || e)));
    return api;
  }

  window.INRPlayground = {mount, initBackend, version: '1'};
  // Trainers whose data arrived before the engine (the site loads it once, asynchronously)
  (window.__inrPlaygroundQueue || []).forEach(([r, d]) => mount(r, d));
  window.__inrPlaygroundQueue = [];
})();
