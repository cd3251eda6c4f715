/*
 * optimlab network: ol.nets.train computed in the reader's browser (a Web Worker) or under node.
 *
 * A second implementation of optimlab/nets.py for one configuration at a time: the MLP's forward
 * pass, mean cross-entropy and backpropagation, the mini-batch order, divergence, and the update
 * rules of engine.js (loaded first; its elementwise rules are not written here), and the two
 * rules that need whole weight matrices (Adafactor, Muon), which have no 2-D twin there.  Everything random is
 * numpy's: default_rng(seed) (SeedSequence → PCG64), Generator.uniform and Generator.permutation,
 * re-implemented bit for bit, so the initial parameters (MLP.init: default_rng([seed, 1])) and
 * the batch order (default_rng(seed).permutation per epoch) need not be carried by the page.
 * The data (the digits, optimlab.datasets) arrive in the explorer's spec (optimlab.explorers
 * .network): pixel counts 0–16 as bytes, divided by 16 here as digits() does.
 * tests/test_network_js.py holds it to ol.nets.train on random settings of every engine rule.
 *
 * API (globalThis.optimlabNetwork; module.exports under node):
 *   Generator(seed)          numpy.random.default_rng(seed): .uniform(lo, hi, n), .permutation(n)
 *   init(sizes, seed)        MLP(sizes).init(seed), flattened (W1 row by row, b1, W2, b2, …)
 *   data(spec, scaling)      {X, y, Xt, yt, n, nt, d} from spec.data (see explorers.network),
 *                            the pixels scaled by one of spec.scalings (explorers.network_scalings:
 *                            ((X − shift) / divide) · multiply), or as given without one
 *   schedule(total, warmup)  ol.nets.cosine_schedule(total, warmup): t → the factor of η at step t
 *   train(cfg, data, onEpoch) one run; cfg = {sizes, rule: {rule, hp} (or rules: one such per
 *                            parameter, W1, b1, W2, b2, as ol.nets.train's list), epochs, batch_size, seed,
 *                            bound, schedule: null or {total, warmup} (steps; lr_schedule=
 *                            ol.nets.cosine_schedule(total, warmup)), clip: null or a number
 *                            (clip=…)}; onEpoch(record, e) after each epoch (e = 0: the initial
 *                            parameters); returns the record {train_loss: Float64Array(steps),
 *                            train_loss_epoch, test_loss, test_accuracy: arrays (epochs + 1),
 *                            params, diverged_at, steps_per_epoch}, as ol.nets.Training, and for
 *                            the views, per epoch: W1 (the first layer's weights, Float32Array)
 *                            and wrong (Int16Array of pairs: test image, predicted class); with
 *                            cfg.plane = {d1, d2} (flat directions), proj: per epoch [a, b, ‖θₑ − θ₀‖²]
 *                            (project)
 *   project(p, p0, d1, d2)   [(p − p0)·d1, (p − p0)·d2, ‖p − p0‖²]: a point's coordinates on
 *                            the loss plane of ol.nets.loss_plane (Plane.project) and its squared
 *                            distance from the plane's origin
 *   Trainer(cfg, data)       the same run, one epoch per next() (epoch 0 first: the measures
 *                            of the initial parameters); .rec the record so far
 *   serve(scope)             a worker's message handler: {data: spec.data, runs: [{key, cfg}]}
 *                            and scaling → the runs in turn, an epoch each, and per epoch a
 *                            message {key, epoch, steps: new train_loss values, train_loss_epoch,
 *                            test_loss, test_accuracy, diverged_at, done, W1, wrong, proj}
 *   source                   this file's code, to build a worker from a Blob
 */
(function optimlabNetworkFactory(root) {
  "use strict";

  // ------------------------------------------------------------------ numpy's random numbers
  var M32 = 0xffffffff;
  var MASK64 = (BigInt(1) << BigInt(64)) - BigInt(1), MASK128 = (BigInt(1) << BigInt(128)) - BigInt(1);
  var PCG_MULT = BigInt("0x2360ED051FC65DA44385DF649FCCF645");
  var B64 = BigInt(64), B122 = BigInt(122), B11 = BigInt(11), B32 = BigInt(32), ONE = BigInt(1);

  // numpy.random.SeedSequence(entropy).generate_state(nWords) (uint32 words); entropy: a
  // non-negative integer or a list of them (each split into 32-bit words, low first).
  function seedWords(entropy) {
    var list = Array.isArray(entropy) ? entropy : [entropy], words = [];
    list.forEach(function (v) {
      var n = BigInt(v);
      if (n === BigInt(0)) { words.push(0); return; }
      while (n > BigInt(0)) { words.push(Number(n & BigInt(M32))); n >>= B32; }
    });
    return words;
  }

  function generateState(entropy, nWords) {
    var INIT_A = 0x43b0d7e5, MULT_A = 0x931e8875, INIT_B = 0x8b51f9dd, MULT_B = 0x58f38ded;
    var MIX_L = 0xca01f9dd, MIX_R = 0x4973f715, POOL = 4;
    var ent = seedWords(entropy), hashConst = INIT_A, pool = [], i, j;
    function hashmix(value) {
      value = (value ^ hashConst) >>> 0;
      hashConst = Math.imul(hashConst, MULT_A) >>> 0;
      value = Math.imul(value, hashConst) >>> 0;
      return (value ^ (value >>> 16)) >>> 0;
    }
    function mix(x, y) {
      var r = (Math.imul(MIX_L, x) - Math.imul(MIX_R, y)) >>> 0;
      return (r ^ (r >>> 16)) >>> 0;
    }
    for (i = 0; i < POOL; i++) pool.push(hashmix(i < ent.length ? ent[i] : 0));
    for (i = 0; i < POOL; i++) {
      for (j = 0; j < POOL; j++) if (i !== j) pool[j] = mix(pool[j], hashmix(pool[i]));
    }
    for (i = POOL; i < ent.length; i++) {
      for (j = 0; j < POOL; j++) pool[j] = mix(pool[j], hashmix(ent[i]));
    }
    var out = [], hc = INIT_B;
    for (i = 0; i < nWords; i++) {
      var v = (pool[i % POOL] ^ hc) >>> 0;
      hc = Math.imul(hc, MULT_B) >>> 0;
      v = Math.imul(v, hc) >>> 0;
      out.push((v ^ (v >>> 16)) >>> 0);
    }
    return out;
  }

  // numpy.random.default_rng(seed): PCG64 seeded by SeedSequence(seed).
  function Generator(seed) {
    var w = generateState(seed, 8), u = [];
    for (var k = 0; k < 4; k++) u.push((BigInt(w[2 * k + 1]) << B32) | BigInt(w[2 * k]));
    var initstate = (u[0] << B64) | u[1], initseq = (u[2] << B64) | u[3];
    this.inc = ((initseq << ONE) | ONE) & MASK128;
    this.state = BigInt(0);
    this.step();
    this.state = (this.state + initstate) & MASK128;
    this.step();
    this.buffered = null;  // pcg64's spare 32 bits (next_uint32)
  }
  Generator.prototype.step = function () { this.state = (this.state * PCG_MULT + this.inc) & MASK128; };
  Generator.prototype.next64 = function () {  // XSL-RR output of the advanced state
    this.step();
    var s = this.state, x = ((s >> B64) ^ s) & MASK64, rot = s >> B122;
    return ((x >> rot) | (x << ((B64 - rot) & BigInt(63)))) & MASK64;
  };
  Generator.prototype.next32 = function () {
    if (this.buffered !== null) { var b = this.buffered; this.buffered = null; return b; }
    var v = this.next64();
    this.buffered = Number(v >> B32);
    return Number(v & BigInt(M32));
  };
  Generator.prototype.nextDouble = function () { return Number(this.next64() >> B11) * (1.0 / 9007199254740992.0); };
  // Generator.uniform(lo, hi, size=n): lo + (hi − lo) · next_double.
  Generator.prototype.uniform = function (lo, hi, n) {
    var out = new Float64Array(n), range = hi - lo;
    for (var i = 0; i < n; i++) out[i] = lo + range * this.nextDouble();
    return out;
  };
  // random_interval(max): a masked 32-bit draw, rejected until ≤ max (max < 2³²).
  Generator.prototype.interval = function (max) {
    if (max === 0) return 0;
    var mask = max;
    mask |= mask >>> 1; mask |= mask >>> 2; mask |= mask >>> 4; mask |= mask >>> 8; mask |= mask >>> 16;
    mask >>>= 0;
    var v;
    while ((v = (this.next32() & mask) >>> 0) > max) { /* rejected */ }
    return v;
  };
  // Generator.permutation(n): arange(n) shuffled by Fisher–Yates from the end.
  Generator.prototype.permutation = function (n) {
    var a = new Int32Array(n);
    for (var i = 0; i < n; i++) a[i] = i;
    for (i = n - 1; i >= 1; i--) {
      var j = this.interval(i), t = a[i];
      a[i] = a[j]; a[j] = t;
    }
    return a;
  };

  // ------------------------------------------------------------------ the MLP
  // Layer l (l = 0 … L−1) maps sizes[l] inputs to sizes[l+1] outputs; its W (out × in, row by
  // row) starts at offsets[l].W and its b at offsets[l].b of the flat parameter vector.
  function layout(sizes) {
    var out = [], at = 0;
    for (var l = 0; l + 1 < sizes.length; l++) {
      var i = sizes[l], o = sizes[l + 1];
      out.push({ n_in: i, n_out: o, W: at, b: at + o * i });
      at += o * i + o;
    }
    out.size = at;
    return out;
  }

  function init(sizes, seed) {
    var L = layout(sizes), p = new Float64Array(L.size), rng = new Generator([seed, 1]);
    L.forEach(function (ly) {
      var k = 1.0 / Math.sqrt(ly.n_in);
      p.set(rng.uniform(-k, k, ly.n_out * ly.n_in), ly.W);
      p.set(rng.uniform(-k, k, ly.n_out), ly.b);
    });
    return p;
  }

  // Forward pass on rows `rows` of X (d features each): the activations of every layer
  // (acts[0] the inputs), each a Float64Array of n × width.
  function forward(L, p, X, d, rows, n) {
    var a = new Float64Array(n * d);
    for (var r = 0; r < n; r++) a.set(X.subarray(rows[r] * d, rows[r] * d + d), r * d);
    var acts = [a];
    for (var l = 0; l < L.length; l++) {
      var ly = L[l], ni = ly.n_in, no = ly.n_out, z = new Float64Array(n * no), last = l === L.length - 1;
      for (var r2 = 0; r2 < n; r2++) {
        for (var j = 0; j < no; j++) {
          // four partial sums (as a BLAS kernel keeps several): twice as fast as one
          var s0 = 0, s1 = 0, s2 = 0, s3 = 0, w = ly.W + j * ni, ar = r2 * ni, k = 0;
          for (; k + 3 < ni; k += 4) {
            s0 += a[ar + k] * p[w + k]; s1 += a[ar + k + 1] * p[w + k + 1];
            s2 += a[ar + k + 2] * p[w + k + 2]; s3 += a[ar + k + 3] * p[w + k + 3];
          }
          for (; k < ni; k++) s0 += a[ar + k] * p[w + k];
          var s = ((s0 + s1) + (s2 + s3)) + p[ly.b + j];
          z[r2 * no + j] = last || s > 0 ? s : 0;  // np.maximum(z, 0)
        }
      }
      acts.push(z);
      a = z;
    }
    return acts;
  }

  // Per row: log p_y and (with probs) softmax — nets.MLP._log_softmax, numpy's sums.
  function softmax(z, K, n, y, rows, probs) {
    var lp = new Float64Array(n), e = new Float64Array(K), sum = root.optimlabEngine.pairwiseSum;
    for (var r = 0; r < n; r++) {
      var o = r * K, zmax = -Infinity, k;
      for (k = 0; k < K; k++) zmax = Math.max(zmax, z[o + k]);
      for (k = 0; k < K; k++) e[k] = Math.exp(z[o + k] - zmax);
      var s = sum(e, 0, K), t = y[rows[r]];
      lp[r] = -((z[o + t] - zmax) - Math.log(s));  // − log p_y
      if (probs) for (k = 0; k < K; k++) probs[o + k] = e[k] / s;
    }
    return lp;
  }

  function meanOf(v) { return root.optimlabEngine.pairwiseSum(v, 0, v.length) / v.length; }

  // The mini-batch loss and its gradient (flat, like p): nets.MLP._loss_and_grad.
  function lossAndGrad(L, p, X, y, d, rows, n) {
    var acts = forward(L, p, X, d, rows, n), K = L[L.length - 1].n_out;
    var dz = new Float64Array(n * K), loss = meanOf(softmax(acts[L.length], K, n, y, rows, dz));
    for (var r = 0; r < n; r++) {
      var t = y[rows[r]];
      for (var k = 0; k < K; k++) dz[r * K + k] = (dz[r * K + k] - (k === t ? 1 : 0)) / n;
    }
    var g = new Float64Array(p.length);
    for (var l = L.length - 1; l >= 0; l--) {
      var ly = L[l], ni = ly.n_in, no = ly.n_out, a = acts[l], j, i;
      for (j = 0; j < no; j++) {
        var w = ly.W + j * ni, gb = 0;
        for (r = 0; r < n; r++) {
          var dzj = dz[r * no + j], ar = r * ni;
          gb += dzj;
          for (i = 0; i < ni; i++) g[w + i] += dzj * a[ar + i];
        }
        g[ly.b + j] = gb;
      }
      if (l > 0) {
        var below = new Float64Array(n * ni);
        for (r = 0; r < n; r++) {
          for (i = 0; i < ni; i++) {
            if (!(a[r * ni + i] > 0)) continue;
            var s = 0;
            for (j = 0; j < no; j++) s += dz[r * no + j] * p[ly.W + j * ni + i];
            below[r * ni + i] = s;
          }
        }
        dz = below;
      }
    }
    return [loss, g];
  }

  // Mean cross-entropy and accuracy on a whole set (nets.MLP._evaluate); third, the examples
  // misclassified (pairs: row, predicted class; numpy's argmax: the first of equal logits).
  function evaluate(L, p, X, y, d, n) {
    var rows = new Int32Array(n), wrong = [];
    for (var r = 0; r < n; r++) rows[r] = r;
    var z = forward(L, p, X, d, rows, n)[L.length], K = L[L.length - 1].n_out, right = 0;
    for (r = 0; r < n; r++) {
      var best = 0;
      for (var k = 1; k < K; k++) if (z[r * K + k] > z[r * K + best]) best = k;
      if (best === y[r]) right++; else wrong.push(r, best);
    }
    return [meanOf(softmax(z, K, n, y, rows, null)), right / n, Int16Array.from(wrong)];
  }

  // ------------------------------------------------------------------ data
  function bytes(b64) {
    var bin = atob(b64), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  // spec.data: {X: base64 bytes (train rows, then test rows), y: base64 bytes, n_train, n_test,
  // features, divisor}: X = byte / divisor.
  function data(sd, sc) {
    var xb = bytes(sd.X), yb = bytes(sd.y), d = sd.features, n = sd.n_train, nt = sd.n_test;
    var X = new Float64Array(xb.length), shift = sc && sc.shift, div = sc && sc.divide, mul = sc && sc.multiply;
    for (var i = 0; i < xb.length; i++) {
      var x = xb[i] / sd.divisor, j = i % d;  // Dataset.standardized: (X − mean) / std; .scaled: X · f
      if (shift) x = (x - shift[j]) / div[j];
      if (mul) x = x * mul[j];
      X[i] = x;
    }
    return { X: X.subarray(0, n * d), Xt: X.subarray(n * d), y: yb.subarray(0, n), yt: yb.subarray(n, n + nt),
             n: n, nt: nt, d: d };
  }

  // ol.nets.cosine_schedule(total, warmup): linear warmup over `warmup` steps, then cosine decay.
  function schedule(total, warmup) {
    return function (t) {
      return t <= warmup ? t / warmup : 0.5 * (1 + Math.cos(Math.PI * (t - warmup - 1) / (total - warmup)));
    };
  }

  // clip_grad_norm_ as ol.nets.train does it: g · min(1, clip / (‖g‖ + 1e-6)), ‖g‖ over every
  // parameter (each array's sum of squares by numpy's summation, added in the arrays' order).
  function clipped(L, g, clip) {
    var sq = new Float64Array(g.length), total = 0, sum = root.optimlabEngine.pairwiseSum;
    for (var i = 0; i < g.length; i++) sq[i] = g[i] * g[i];
    L.forEach(function (ly) {
      total += sum(sq, ly.W, ly.n_out * ly.n_in);
      total += sum(sq, ly.b, ly.n_out);
    });
    var coef = Math.min(clip / (Math.sqrt(total) + 1e-6), 1.0);
    for (i = 0; i < g.length; i++) g[i] = g[i] * coef;
    return g;
  }

  // ------------------------------------------------------------------ whole-tensor rules
  // The rules that need a whole weight matrix and so have no 2-D twin in engine.js (Adafactor,
  // Muon: optimlab/rules.py, registry "network" names).  Each: make(hp) → {init(shape), step(x,
  // g, state, shape) → [x, state]} for one parameter tensor (x, g: Float64Array, row by row).
  var EPS64 = 2.220446049250313e-16;  // numpy.finfo(float64).eps (Adafactor's eps=(None, …))

  // optimlab.rules._lerp: start + w (end − start), or end − (end − start)(1 − w) from w = 1/2 on.
  function lerp(start, end, w) {
    var out = new Float64Array(start.length), i;
    if (w < 0.5) for (i = 0; i < out.length; i++) out[i] = start[i] + w * (end[i] - start[i]);
    else for (i = 0; i < out.length; i++) out[i] = end[i] - (end[i] - start[i]) * (1 - w);
    return out;
  }
  function norm(a) {  // numpy: sqrt(sum(a * a)), the sum pairwise
    var sq = new Float64Array(a.length);
    for (var i = 0; i < a.length; i++) sq[i] = a[i] * a[i];
    return Math.sqrt(root.optimlabEngine.pairwiseSum(sq, 0, sq.length));
  }
  function matmul(A, B, m, k, n) {  // (m × k)(k × n), each sum in the order of k (row by row, cache-friendly)
    var C = new Float64Array(m * n);
    for (var i = 0; i < m; i++) {
      for (var l = 0; l < k; l++) {
        var a = A[i * k + l], bo = l * n, co = i * n;
        for (var j = 0; j < n; j++) C[co + j] += a * B[bo + j];
      }
    }
    return C;
  }
  function gram(X, r, c) {  // X Xᵀ for X of r × c
    var A = new Float64Array(r * r);
    for (var i = 0; i < r; i++) {
      for (var j = 0; j < r; j++) {
        var s = 0, io = i * c, jo = j * c;
        for (var l = 0; l < c; l++) s += X[io + l] * X[jo + l];
        A[i * r + j] = s;
      }
    }
    return A;
  }
  function transpose(A, m, n) {
    var T = new Float64Array(m * n);
    for (var i = 0; i < m; i++) for (var j = 0; j < n; j++) T[j * m + i] = A[i * n + j];
    return T;
  }
  // optimlab.rules.newton_schulz for one m × n matrix in float64.
  function newtonSchulz(G, m, n, coef, steps, eps) {
    var tall = m > n, r = tall ? n : m, c = tall ? m : n, X = tall ? transpose(G, m, n) : Float64Array.from(G);
    var f = Math.max(norm(X), eps), i, s;
    for (i = 0; i < X.length; i++) X[i] = X[i] / f;
    for (s = 0; s < steps; s++) {
      var A = gram(X, r, c), AA = matmul(A, A, r, r, r), B = new Float64Array(r * r);
      for (i = 0; i < B.length; i++) B[i] = coef[1] * A[i] + coef[2] * AA[i];
      var BX = matmul(B, X, r, r, c);
      for (i = 0; i < X.length; i++) X[i] = coef[0] * X[i] + BX[i];
    }
    return tall ? transpose(X, r, c) : X;
  }
  function decayed(x, h) {  // decoupled weight decay: θ(1 − ηλ) (a no-op at λ = 0)
    if (!h.weight_decay) return x;
    var f = 1 - h.lr * h.weight_decay, out = new Float64Array(x.length);
    for (var i = 0; i < x.length; i++) out[i] = x[i] * f;
    return out;
  }

  var TENSOR_RULES = {
    Adafactor: function (h) {
      var eps1 = h.eps[0] === null ? EPS64 : h.eps[0], eps2 = h.eps[1];
      return {
        init: function (shape) {
          return shape.length > 1 ? { t: 0, row: new Float64Array(shape[0]), col: new Float64Array(shape[1]) }
            : { t: 0, v: new Float64Array(shape[0]) };
        },
        step: function (x, g, st, shape) {
          var N = x.length, t = st.t + 1, w = Math.pow(t, h.beta2_decay), i, j, vhat, out;
          if (h.maximize) g = g.map(function (u) { return -u; });
          var alpha = Math.max(eps2, norm(x) / Math.sqrt(N)) * Math.min(h.lr, 1 / Math.pow(t, 0.5));
          x = decayed(x, h);
          if (shape.length > 1) {
            var m = shape[0], n = shape[1], rs = new Float64Array(m), cs = new Float64Array(n), sq = new Float64Array(N);
            for (i = 0; i < N; i++) sq[i] = g[i] * g[i];
            for (i = 0; i < m; i++) { var q = Math.sqrt(root.optimlabEngine.pairwiseSum(sq, i * n, n)); rs[i] = q * q / n; }
            for (j = 0; j < n; j++) {  // (numpy sums a column in row order)
              var sc = 0;
              for (i = 0; i < m; i++) sc += sq[i * n + j];
              var qc = Math.sqrt(sc);
              cs[j] = qc * qc / m;
            }
            var row = lerp(st.row, rs, w), col = lerp(st.col, cs, w), mr = 0;
            for (i = 0; i < m; i++) mr += row[i];
            mr = Math.max(mr / m, eps1);
            vhat = new Float64Array(N);
            for (i = 0; i < m; i++) for (j = 0; j < n; j++) vhat[i * n + j] = row[i] * col[j] / mr;
            out = { t: t, row: row, col: col };
          } else {
            var gg = new Float64Array(N);
            for (i = 0; i < N; i++) gg[i] = g[i] * g[i];
            vhat = lerp(st.v, gg, w);
            out = { t: t, v: vhat };
          }
          var u = new Float64Array(N), e2 = eps1 * eps1;
          for (i = 0; i < N; i++) u[i] = g[i] / Math.sqrt(Math.max(vhat[i], e2));
          var k = alpha / Math.max(1, norm(u) / (Math.sqrt(N) * h.d)), xn = new Float64Array(N);
          for (i = 0; i < N; i++) xn[i] = x[i] - k * u[i];
          return [xn, out];
        }
      };
    },
    Muon: function (h) {
      return {
        init: function (shape) {
          if (shape.length !== 2) throw new Error("Muon steps 2-D weight matrices only; got a parameter of shape [" + shape + "]");
          return { t: 0, b: new Float64Array(shape[0] * shape[1]) };
        },
        step: function (x, g, st, shape) {
          var m = shape[0], n = shape[1], mu = h.momentum, i;
          var b = lerp(st.b, g, 1 - mu), u = h.nesterov ? lerp(g, b, mu) : b;
          var o = newtonSchulz(u, m, n, h.ns_coefficients, h.ns_steps, h.eps);
          var scale = h.adjust_lr_fn === "match_rms_adamw" ? 0.2 * Math.sqrt(Math.max(m, n)) : Math.sqrt(Math.max(1, m / n));
          var k = h.lr * scale, xd = decayed(x, h), xn = new Float64Array(x.length);
          for (i = 0; i < x.length; i++) xn[i] = xd[i] - k * o[i];
          return [xn, { t: st.t + 1, b: b }];
        }
      };
    }
  };

  // The rule of a spec {rule, hp}: a whole-tensor rule of this file, else engine.js's (elementwise:
  // stepping a tensor at a time gives the numbers of stepping them all at once).
  function tensorRule(spec) {
    var make = TENSOR_RULES[spec.rule];
    if (make) return make(spec.hp);
    var R = root.optimlabEngine.rule(spec);
    return { init: function (shape) { return R.init(shape.length > 1 ? shape[0] * shape[1] : shape[0]); },
             step: function (x, g, st) { return R.step(x, g, st); } };
  }

  // The parameters in MLP.shapes order (W1, b1, W2, b2, …): offset, size, shape.
  function tensors(L) {
    var out = [];
    L.forEach(function (ly) {
      out.push({ off: ly.W, n: ly.n_out * ly.n_in, shape: [ly.n_out, ly.n_in] });
      out.push({ off: ly.b, n: ly.n_out, shape: [ly.n_out] });
    });
    return out;
  }

  // ------------------------------------------------------------------ the loss plane
  function project(p, p0, d1, d2) {
    var a = 0, b = 0, sq = 0;
    for (var i = 0; i < p.length; i++) {
      var u = p[i] - p0[i];
      a += u * d1[i]; b += u * d2[i]; sq += u * u;
    }
    return [a, b, sq];
  }

  // ------------------------------------------------------------------ training
  // A run advanced one epoch at a time: next() measures the initial parameters (epoch 0) on its
  // first call, then trains one epoch per call; it returns false once every epoch is done.
  function Trainer(cfg, D) {
    var L = layout(cfg.sizes), bound = cfg.bound || 1e6, P = tensors(L);
    // one rule per parameter (ol.nets.train's list), or one for all
    var specs = P.map(function (_, k) { return cfg.rules ? cfg.rules[k] : cfg.rule; });
    var Rs = specs.map(tensorRule);
    var factor = cfg.schedule ? schedule(cfg.schedule.total, cfg.schedule.warmup) : null, clip = cfg.clip;
    var p = init(cfg.sizes, cfg.seed), state = P.map(function (T, k) { return Rs[k].init(T.shape); });
    var n = D.n, B = Math.min(cfg.batch_size, n), per = Math.ceil(n / B), E = cfg.epochs;
    var rng = new Generator(cfg.seed), t = 0, e = -1;
    var rec = this.rec = { train_loss: new Float64Array(E * per), train_loss_epoch: [], test_loss: [],
                           test_accuracy: [], params: p, diverged_at: -1, steps_per_epoch: per,
                           W1: [], wrong: [], proj: cfg.plane ? [] : null };
    var p0 = cfg.plane ? Float64Array.from(p) : null;
    function measure() {
      if (p0) rec.proj.push(project(p, p0, cfg.plane.d1, cfg.plane.d2));
      rec.train_loss_epoch.push(evaluate(L, p, D.X, D.y, D.d, n)[0]);
      var te = evaluate(L, p, D.Xt, D.yt, D.d, D.nt);
      rec.test_loss.push(te[0]);
      rec.test_accuracy.push(te[1]);
      rec.wrong.push(te[2]);
      rec.W1.push(Float32Array.from(p.subarray(L[0].W, L[0].W + L[0].n_out * L[0].n_in)));
      rec.params = p;
    }
    this.epoch = function () { return e; };
    this.next = function () {
      if (e >= E) return false;
      if (++e > 0) {
        var order = rng.permutation(n);
        for (var k = 0; k < per; k++) {
          var rows = order.subarray(k * B, Math.min(n, (k + 1) * B));
          var lg = lossAndGrad(L, p, D.X, D.y, D.d, rows, rows.length);
          rec.train_loss[t++] = lg[0];
          if (rec.diverged_at >= 0) continue;  // a diverged run keeps its last in-bound parameters
          var g = clip != null ? clipped(L, lg[1], clip) : lg[1], Rt = Rs;
          if (factor) {  // the schedule: rules with η · factor(t) for this step (rules.replace(lr=…))
            var f = factor(t);
            Rt = specs.map(function (sp) {
              var hp = Object.assign({}, sp.hp);
              hp.lr = sp.hp.lr * f;
              return tensorRule({ rule: sp.rule, hp: hp });
            });
          }
          var pn = new Float64Array(p.length), next = [], ok = true;
          for (var k2 = 0; k2 < P.length; k2++) {
            var T = P[k2], out = Rt[k2].step(p.subarray(T.off, T.off + T.n), g.subarray(T.off, T.off + T.n), state[k2], T.shape);
            pn.set(out[0], T.off);
            next.push(out[1]);
          }
          for (var i = 0; i < pn.length; i++) if (!(Math.abs(pn[i]) <= bound)) { ok = false; break; }
          if (ok) { p = pn; state = next; } else rec.diverged_at = t;
        }
      }
      measure();
      return true;
    };
  }

  function train(cfg, D, onEpoch) {
    var T = new Trainer(cfg, D);
    while (T.next()) if (onEpoch) onEpoch(T.rec, T.epoch());
    return T.rec;
  }

  // ------------------------------------------------------------------ a worker
  // {id, data, runs: [{key, cfg}]}: the runs advance in turn, one epoch each, so that their curves
  // grow together; after each epoch a message {id, key, epoch, steps (the epoch's new mini-batch
  // losses), train_loss_epoch, test_loss, test_accuracy, diverged_at, done}.
  function serve(scope) {
    scope.onmessage = function (ev) {
      var msg = ev.data, D = data(msg.data, msg.scaling);
      var runs = msg.runs.map(function (r) { return { key: r.key, T: new Trainer(r.cfg, D), sent: 0, E: r.cfg.epochs }; });
      var busy = true;
      while (busy) {
        busy = false;
        runs.forEach(function (r) {
          if (!r.T.next()) return;
          var rec = r.T.rec, e = r.T.epoch(), t = e * rec.steps_per_epoch;
          scope.postMessage({ id: msg.id, key: r.key, epoch: e, steps: Array.prototype.slice.call(rec.train_loss, r.sent, t),
                              train_loss_epoch: rec.train_loss_epoch[e], test_loss: rec.test_loss[e],
                              test_accuracy: rec.test_accuracy[e], diverged_at: rec.diverged_at, done: e === r.E,
                              W1: rec.W1[e], wrong: rec.wrong[e], proj: rec.proj ? rec.proj[e] : null });
          rec.W1[e] = rec.wrong[e] = null;  // sent: the page keeps them
          r.sent = t;
          busy = busy || e < r.E;
        });
      }
    };
  }

  var api = { Generator: Generator, generateState: generateState, init: init, layout: layout, schedule: schedule,
              tensorRule: tensorRule, newtonSchulz: newtonSchulz,
              lossAndGrad: lossAndGrad, evaluate: evaluate, data: data, project: project, Trainer: Trainer, train: train, serve: serve,
              source: "(" + optimlabNetworkFactory + ")(globalThis);\n" };
  root.optimlabNetwork = api;
  if (typeof module === "object" && module.exports) module.exports = api;
})(typeof globalThis !== "undefined" ? globalThis : this);
