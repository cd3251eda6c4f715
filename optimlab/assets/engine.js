/*
 * optimlab engine: the book's update rules and surfaces, computed in the reader's browser.
 *
 * A second implementation of optimlab/rules.py, optimlab/surfaces.py and optimlab.run, for
 * two-dimensional points only.  It holds no defaults and no constants of its own: every
 * hyperparameter and every surface parameter arrives in a JSON table written by
 * optimlab/engine.py (surface_spec, optimizer_spec).  tests/test_engine.py runs it under node
 * against optimlab.run on random cases (every rule and option, every surface) and requires the
 * same trajectories to 1e-9 and the same divergence step.
 *
 * API (window.optimlabEngine in a page, module.exports under node):
 *   surface(spec)            -> {f(x, y), grad(x, y) -> [gx, gy]}
 *   rule(spec)               -> {init(n) -> state, step(x, g, state) -> [x, state]}  (n
 *                               coordinates, 2 by default; x, g: arrays of n numbers)
 *   run(ruleSpec, surfaceSpec, x0, steps, bound)
 *                            -> {xs: Float64Array(2 (steps+1)), losses: Float64Array(steps+1),
 *                                divergedAt: step of the blow-up or -1}
 * Points and gradients are plain arrays [x, y]; a state is a plain object.
 */
(function optimlabEngineFactory(root) {
  "use strict";

  // ------------------------------------------------------------------ surfaces
  var SURFACES = {
    quadratic: function (p) {
      // f = 1/2 (θ − c)ᵀ A (θ − c);  ∇f = (θ − c) A   (A symmetric)
      var a = p.A[0][0], b = p.A[0][1], c = p.A[1][0], d = p.A[1][1];
      var cx = p.center[0], cy = p.center[1];
      return {
        f: function (x, y) {
          var u = x - cx, v = y - cy;
          return 0.5 * (u * (a * u + b * v) + v * (c * u + d * v));
        },
        grad: function (x, y) {
          var u = x - cx, v = y - cy;
          return [u * a + v * c, u * b + v * d];
        }
      };
    },
    rosenbrock: function (p) {
      var A = p.a, B = p.b;
      return {
        f: function (x, y) { var r = y - x * x; return (A - x) * (A - x) + B * r * r; },
        grad: function (x, y) {
          var r = y - x * x;
          return [-2 * (A - x) - 4 * B * x * r, 2 * B * r];
        }
      };
    },
    beale: function (p) {
      var C = p.c;
      return {
        f: function (x, y) {
          var s = 0, yk = 1;
          for (var k = 0; k < C.length; k++) { yk *= y; var r = C[k] - x + x * yk; s += r * r; }
          return s;
        },
        grad: function (x, y) {
          var gx = 0, gy = 0, yk = 1, ykm1 = 1;
          for (var k = 0; k < C.length; k++) {
            ykm1 = yk; yk *= y;
            var r = C[k] - x + x * yk;
            gx += 2 * r * (yk - 1);
            gy += 2 * r * (k + 1) * x * ykm1;
          }
          return [gx, gy];
        }
      };
    },
    himmelblau: function () {
      return {
        f: function (x, y) { var a = x * x + y - 11, b = x + y * y - 7; return a * a + b * b; },
        grad: function (x, y) {
          var a = x * x + y - 11, b = x + y * y - 7;
          return [4 * x * a + 2 * b, 2 * a + 4 * y * b];
        }
      };
    },
    saddle: function () {
      return {
        f: function (x, y) { return 0.5 * x * x + 0.25 * Math.pow(y, 4) - 0.5 * y * y; },
        grad: function (x, y) { return [x, Math.pow(y, 3) - y]; }
      };
    },
    rastrigin: function (p) {
      var A = p.A, tp = 2 * Math.PI;
      return {
        f: function (x, y) {
          return 2 * A + ((x * x - A * Math.cos(tp * x)) + (y * y - A * Math.cos(tp * y)));
        },
        grad: function (x, y) {
          return [2 * x + tp * A * Math.sin(tp * x), 2 * y + tp * A * Math.sin(tp * y)];
        }
      };
    },
    linear_regression: function (p) {
      // f(w, b) = mean((w x_i + b − y_i)²);  ∇f = (2 mean(r_i x_i), 2 mean(r_i)), with numpy's
      // pairwise summation, so that a gradient near the minimum (a sum that cancels) rounds alike.
      var X = p.x, Y = p.y, n = X.length, r = new Float64Array(n), rx = new Float64Array(n);
      function residuals(w, b) {
        for (var i = 0; i < n; i++) r[i] = w * X[i] + b - Y[i];
      }
      return {
        f: function (w, b) {
          residuals(w, b);
          for (var i = 0; i < n; i++) rx[i] = r[i] * r[i];
          return pairwiseSum(rx, 0, n) / n;
        },
        grad: function (w, b) {
          residuals(w, b);
          for (var i = 0; i < n; i++) rx[i] = r[i] * X[i];
          return [2 * (pairwiseSum(rx, 0, n) / n), 2 * (pairwiseSum(r, 0, n) / n)];
        }
      };
    }
  };

  // numpy's summation of a contiguous float64 array (pairwise_sum in numpy/_core/src/umath).
  function pairwiseSum(a, lo, n) {
    var i, res;
    if (n < 8) {
      res = -0.0;
      for (i = 0; i < n; i++) res += a[lo + i];
      return res;
    }
    if (n <= 128) {
      var r = [a[lo], a[lo + 1], a[lo + 2], a[lo + 3], a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]];
      for (i = 8; i < n - (n % 8); i += 8) {
        for (var j = 0; j < 8; j++) r[j] += a[lo + i + j];
      }
      res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
      for (; i < n; i++) res += a[lo + i];
      return res;
    }
    var n2 = Math.floor(n / 2);
    n2 -= n2 % 8;
    return pairwiseSum(a, lo, n2) + pairwiseSum(a, lo + n2, n - n2);
  }

  function surface(spec) {
    var make = SURFACES[spec.kind];
    if (!make) throw new Error("unknown surface kind: " + spec.kind);
    return make(spec.params || {});
  }

  // ------------------------------------------------------------------ update rules
  // Each rule works on every coordinate separately: x, g, and the state's vectors are
  // Float64Arrays of n coordinates (n = 2 on a surface; every parameter of a network in
  // network.js).  init(n) takes n (2 when omitted).
  function zeros(n) { return new Float64Array(n || 2); }
  // optimlab's in-place lerp_ on numpy arrays: a + w (b − a).
  function lerp(a, b, w) { return a + w * (b - a); }
  function each(n, fn) {
    var out = new Float64Array(n);
    for (var i = 0; i < n; i++) out[i] = fn(i);
    return out;
  }

  // The gradient the rule sees: sign-flipped for maximize, plus L2 weight decay (not decoupled).
  function effective(h, x, g, decoupled) {
    var s = h.maximize ? -1 : 1;
    return each(x.length, function (i) {
      var gi = s * g[i];
      return (h.weight_decay !== 0 && !decoupled) ? gi + h.weight_decay * x[i] : gi;
    });
  }

  var RULES = {
    SGD: function (h) {
      return {
        init: function (n) { return { t: 0, b: h.momentum !== 0 ? zeros(n) : null }; },
        step: function (x, g0, s) {
          var n = x.length;
          var g = effective(h, x, g0, false), t = s.t + 1, b = s.b, d = g;
          if (h.momentum !== 0) {
            b = each(n, function (i) {
              return t === 1 ? g[i] : h.momentum * s.b[i] + (1 - h.dampening) * g[i];
            });
            d = h.nesterov ? each(n, function (i) { return g[i] + h.momentum * b[i]; }) : b;
          }
          return [each(n, function (i) { return x[i] - h.lr * d[i]; }), { t: t, b: b }];
        }
      };
    },
    Momentum: function (h) {
      return {
        init: function (n) { return { t: 0, v: zeros(n) }; },
        step: function (x, g0, s) {
          var n = x.length;
          var g = effective(h, x, g0, false);
          var v = each(n, function (i) { return lerp(s.v[i], g[i], 1 - h.beta); });
          return [each(n, function (i) { return x[i] - h.lr * v[i]; }), { t: s.t + 1, v: v }];
        }
      };
    },
    RMSprop: function (h) {
      return {
        init: function (n) {
          return { t: 0, v: zeros(n), gavg: h.centered ? zeros(n) : null,
                   b: h.momentum !== 0 ? zeros(n) : null };
        },
        step: function (x, g0, s) {
          var n = x.length;
          var g = effective(h, x, g0, false), a = h.alpha;
          var v = each(n, function (i) { return a * s.v[i] + (1 - a) * g[i] * g[i]; });
          var gavg = s.gavg, denom;
          if (h.centered) {
            gavg = each(n, function (i) { return s.gavg[i] + (1 - a) * (g[i] - s.gavg[i]); });
            denom = each(n, function (i) { return Math.sqrt(v[i] - gavg[i] * gavg[i]) + h.eps; });
          } else {
            denom = each(n, function (i) { return Math.sqrt(v[i]) + h.eps; });
          }
          var b = s.b, xn;
          if (b !== null) {
            b = each(n, function (i) { return h.momentum * s.b[i] + g[i] / denom[i]; });
            xn = each(n, function (i) { return x[i] - h.lr * b[i]; });
          } else {
            xn = each(n, function (i) { return x[i] + (-h.lr) * (g[i] / denom[i]); });
          }
          return [xn, { t: s.t + 1, v: v, gavg: gavg, b: b }];
        }
      };
    },
    Adagrad: function (h) {
      return {
        init: function (n) {
          var a = h.initial_accumulator_value;
          return { t: 0, G: each(n || 2, function () { return 0 + a; }) };
        },
        step: function (x, g0, s) {
          var n = x.length;
          var g = effective(h, x, g0, false), t = s.t + 1;
          var G = each(n, function (i) { return s.G[i] + g[i] * g[i]; });
          var lr = h.lr / (1 + (t - 1) * h.lr_decay);
          return [each(n, function (i) { return x[i] + (-lr) * (g[i] / (Math.sqrt(G[i]) + h.eps)); }),
                  { t: t, G: G }];
        }
      };
    },
    Adam: function (h) {
      var b1 = h.betas[0], b2 = h.betas[1], dec = !!h.decoupled_weight_decay;
      return {
        init: function (n) { return { t: 0, m: zeros(n), v: zeros(n), vmax: h.amsgrad ? zeros(n) : null }; },
        step: function (x0, g0, s) {
          var n = x0.length;
          var g = effective(h, x0, g0, dec), x = x0;
          if (dec) x = each(n, function (i) { return x0[i] * (1 - h.lr * h.weight_decay); });
          var t = s.t + 1;
          var m = each(n, function (i) { return lerp(s.m[i], g[i], 1 - b1); });
          var v = each(n, function (i) { return s.v[i] * b2 + (1 - b2) * g[i] * g[i]; });
          var vmax = s.vmax;
          if (h.amsgrad) vmax = each(n, function (i) { return Math.max(s.vmax[i], v[i]); });
          var c1 = 1 - Math.pow(b1, t), c2 = 1 - Math.pow(b2, t), w = h.amsgrad ? vmax : v;
          var rc2 = Math.pow(c2, 0.5), value = -(h.lr / c1);
          var xn = each(n, function (i) {
            return x[i] + value * (m[i] / (Math.sqrt(w[i]) / rc2 + h.eps));
          });
          return [xn, { t: t, m: m, v: v, vmax: vmax }];
        }
      };
    },
    NAdam: function (h) {
      var b1 = h.betas[0], b2 = h.betas[1], dec = !!h.decoupled_weight_decay;
      return {
        init: function (n) { return { t: 0, mup: 1.0, m: zeros(n), v: zeros(n) }; },
        step: function (x0, g0, s) {
          var n = x0.length;
          var g = effective(h, x0, g0, dec), x = x0;
          if (dec) x = each(n, function (i) { return x0[i] * (1 - h.lr * h.weight_decay); });
          var t = s.t + 1;
          var mu = b1 * (1 - 0.5 * Math.pow(0.96, t * h.momentum_decay));
          var muNext = b1 * (1 - 0.5 * Math.pow(0.96, (t + 1) * h.momentum_decay));
          var mup = s.mup * mu;
          var m = each(n, function (i) { return lerp(s.m[i], g[i], 1 - b1); });
          var v = each(n, function (i) { return s.v[i] * b2 + (1 - b2) * g[i] * g[i]; });
          var c2 = 1 - Math.pow(b2, t);
          var v1 = -h.lr * (1 - mu) / (1 - mup), v2 = -h.lr * muNext / (1 - mup * muNext);
          var xn = each(n, function (i) {
            var denom = Math.sqrt(v[i] / c2) + h.eps;
            var xi = x[i] + v1 * (g[i] / denom);
            return xi + v2 * (m[i] / denom);
          });
          return [xn, { t: t, mup: mup, m: m, v: v }];
        }
      };
    },
    Lion: function (h) {
      // c = β₁m + (1−β₁)g;  x ← (1 − ηλ)x − η sign(c);  m ← β₂m + (1−β₂)g   (decoupled decay)
      var b1 = h.betas[0], b2 = h.betas[1];
      return {
        init: function (n) { return { t: 0, m: zeros(n) }; },
        step: function (x0, g0, s) {
          var n = x0.length;
          var g = effective(h, x0, g0, true);
          var x = h.weight_decay !== 0 ? each(n, function (i) { return x0[i] * (1 - h.lr * h.weight_decay); }) : x0;
          var xn = each(n, function (i) {
            var c = s.m[i] * b1 + (1 - b1) * g[i];
            return x[i] + (-h.lr) * Math.sign(c);
          });
          var m = each(n, function (i) { return s.m[i] * b2 + (1 - b2) * g[i]; });
          return [xn, { t: s.t + 1, m: m }];
        }
      };
    },
    RAdam: function (h) {
      var b1 = h.betas[0], b2 = h.betas[1], dec = !!h.decoupled_weight_decay;
      var rhoInf = 2 / (1 - b2) - 1;
      return {
        init: function (n) { return { t: 0, m: zeros(n), v: zeros(n) }; },
        step: function (x0, g0, s) {
          var n = x0.length;
          var g = effective(h, x0, g0, dec), x = x0;
          if (dec) x = each(n, function (i) { return x0[i] * (1 - h.lr * h.weight_decay); });
          var t = s.t + 1;
          var m = each(n, function (i) { return lerp(s.m[i], g[i], 1 - b1); });
          var v = each(n, function (i) { return s.v[i] * b2 + (1 - b2) * g[i] * g[i]; });
          var c1 = 1 - Math.pow(b1, t), c2 = 1 - Math.pow(b2, t);
          var rho = rhoInf - 2 * t * Math.pow(b2, t) / c2;
          var r = rho > 5 ? Math.pow((rho - 4) * (rho - 2) * rhoInf /
                                     ((rhoInf - 4) * (rhoInf - 2) * rho), 0.5) : 0;
          var xn = each(n, function (i) {
            var step = m[i] / c1 * h.lr;
            if (rho > 5) step = step * (Math.pow(c2, 0.5) / (Math.sqrt(v[i]) + h.eps)) * r;
            return x[i] + (-1.0) * step;
          });
          return [xn, { t: t, m: m, v: v }];
        }
      };
    }
  };
  RULES.AdamW = RULES.Adam;  // AdamW is Adam with decoupled_weight_decay (set in its table)

  function rule(spec) {
    var make = RULES[spec.rule];
    if (!make) throw new Error("unknown rule: " + spec.rule);
    return make(spec.hp);
  }

  // ------------------------------------------------------------------ run
  // Same divergence rule as optimlab.run: a step whose point leaves |x| <= bound, or whose point
  // or loss is not finite, is recorded in divergedAt; the run then keeps its last good point.
  function run(ruleSpec, surfaceSpec, x0, steps, bound) {
    var S = typeof surfaceSpec.f === "function" ? surfaceSpec : surface(surfaceSpec);
    var R = rule(ruleSpec);
    bound = bound === undefined ? 1e6 : bound;
    var xs = new Float64Array(2 * (steps + 1)), losses = new Float64Array(steps + 1);
    var x = [x0[0], x0[1]], state = R.init(2), divergedAt = -1;
    xs[0] = x[0]; xs[1] = x[1]; losses[0] = S.f(x[0], x[1]);
    for (var t = 1; t <= steps; t++) {
      if (divergedAt < 0) {
        var out = R.step(x, S.grad(x[0], x[1]), state), xn = out[0];
        var fn = S.f(xn[0], xn[1]);
        var ok = isFinite(fn) && isFinite(xn[0]) && isFinite(xn[1]) &&
          Math.abs(xn[0]) <= bound && Math.abs(xn[1]) <= bound;
        if (ok) { x = xn; state = out[1]; losses[t] = fn; } else { divergedAt = t; }
      }
      if (divergedAt >= 0) losses[t] = losses[t - 1];
      xs[2 * t] = x[0]; xs[2 * t + 1] = x[1];
    }
    return { xs: xs, losses: losses, divergedAt: divergedAt };
  }

  // source: this file's code, for a Web Worker made from a Blob (a page read from file:// may
  // not load a worker script by its URL; network.js's workers run the rules this way).
  var api = { surface: surface, rule: rule, run: run, pairwiseSum: pairwiseSum, version: 1,
              source: "(" + optimlabEngineFactory + ")(globalThis);\n" };
  root.optimlabEngine = api;
  if (typeof module === "object" && module.exports) module.exports = api;
})(typeof globalThis !== "undefined" ? globalThis : this);
