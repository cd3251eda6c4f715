/*
 * optimlab explorer controller.
 *
 * Mounts every <div class="optimlab-explorer"> of the page: reads its JSON spec
 * (<script type="application/json" class="optimlab-explorer-data">), draws the
 * figure once with Plotly.newPlot, then answers the controls with Plotly.restyle
 * on slices of the precomputed arrays.  Written by optimlab/explorers.py, which
 * documents the data format and the test hooks (data-ready, data-step,
 * data-combo; .ol-play, .ol-step, .ol-param[data-name]).
 *
 * Safe to load more than once and before or after the DOM is ready; waits for
 * window.Plotly.  Logs nothing in normal operation.
 */
(function () {
  "use strict";

  var existing = window.optimlabExplorer;
  if (existing && existing.version) {
    existing.mountAll();
    return;
  }

  var CSS = [
    ".optimlab-explorer{margin:1rem 0 1.6rem;font-size:.92rem;line-height:1.45}",
    ".optimlab-explorer .ol-plot{width:100%;position:relative}",
    ".optimlab-explorer .ol-fallback{display:flex;align-items:center;justify-content:center;",
    "height:100%;border:1px dashed #bbb;border-radius:6px;color:#666;padding:1rem;",
    "text-align:center;box-sizing:border-box}",
    ".optimlab-explorer .ol-controls{margin:.2rem .2rem 0 .2rem}",
    ".optimlab-explorer .ol-row{display:flex;flex-wrap:wrap;align-items:center;",
    "gap:.35rem 1.4rem;margin:.3rem 0}",
    ".optimlab-explorer .ol-time{flex-wrap:nowrap;gap:.8rem}",
    ".optimlab-explorer .ol-play{font:inherit;font-size:.9rem;padding:.18rem .75rem;",
    "min-width:6.8em;border:1px solid #8a8a8a;border-radius:5px;background:transparent;",
    "color:inherit;cursor:pointer;white-space:nowrap}",
    ".optimlab-explorer .ol-play:hover{background:rgba(127,127,127,.12)}",
    ".optimlab-explorer .ol-step{flex:1 1 auto;min-width:8rem}",
    ".optimlab-explorer input[type=range]{accent-color:#0072B2;cursor:pointer}",
    ".optimlab-explorer .ol-param-label{display:inline-flex;align-items:center;gap:.45rem;",
    "white-space:nowrap}",
    ".optimlab-explorer .ol-param{width:9rem}",
    ".optimlab-explorer output{font-variant-numeric:tabular-nums;min-width:3.2em;",
    "display:inline-block}",
    ".optimlab-explorer .ol-step-value{min-width:7.5em}",
    ".optimlab-explorer .ol-status{display:flex;flex-wrap:wrap;gap:.15rem 1.6rem;",
    "margin:.35rem 0 0;font-variant-numeric:tabular-nums;font-size:.88rem}",
    ".optimlab-explorer .ol-status span.ol-hidden{opacity:.4}",
    ".optimlab-explorer .ol-swatch{display:inline-block;width:.75em;height:.75em;",
    "border-radius:2px;margin-right:.4em;vertical-align:-.02em}"
  ].join("");

  function injectCSS() {
    if (document.getElementById("optimlab-explorer-css")) return;
    var s = document.createElement("style");
    s.id = "optimlab-explorer-css";
    s.textContent = CSS;
    (document.head || document.documentElement).appendChild(s);
  }

  // 16-bit quantized arrays (see optimlab.explorers.encode).
  function decode(ch) {
    var bin = atob(ch.q), n = bin.length >> 1, out = new Float64Array(n);
    var o = ch.o, s = ch.s, lg = !!ch.l;
    for (var i = 0; i < n; i++) {
      var q = bin.charCodeAt(2 * i) | (bin.charCodeAt(2 * i + 1) << 8);
      if (q >= 32768) q -= 65536;
      if (q === -32768) { out[i] = NaN; continue; }
      var v = o + q * s;
      out[i] = lg ? Math.pow(10, v) : v;
    }
    return out;
  }

  function fmt(v) {
    if (!isFinite(v)) return String(v);
    var a = Math.abs(v);
    if (a === 0) return "0";
    if (a >= 1e-3 && a < 1e4) return String(Number(v.toPrecision(3)));
    return v.toExponential(1).replace("e+", "e");
  }

  function range(n) {
    var r = new Float64Array(n);
    for (var i = 0; i < n; i++) r[i] = i;
    return r;
  }

  function Explorer(el, spec) {
    this.el = el;
    this.spec = spec;
    this.gd = el.querySelector(".ol-plot");
    this.T = spec.T;
    this.step = spec.step;
    this.idx = spec.sliders.map(function (s) { return s.init; });
    this.playing = false;
    this.busy = false;
    this.pending = false;
    this.timer = null;
    var n = spec.T + 1;
    this.series = spec.series.map(function (s) {
      var d = { s: s };
      if (spec.kind === "race") {
        d.X = decode(s.x); d.Y = decode(s.y); d.F = decode(s.f);
      } else {
        d.Y = decode(s.y);
      }
      return d;
    });
    this.steps = range(n);
    if (spec.kind === "lines") this.X = Float64Array.from(spec.x);
  }

  Explorer.prototype.combo = function () {
    var c = 0, sl = this.spec.sliders;
    for (var i = 0; i < sl.length; i++) c = c * sl[i].values.length + this.idx[i];
    return c;
  };

  Explorer.prototype.figure = function () {
    var spec = this.spec;
    var data = JSON.parse(JSON.stringify(spec.figure.data));
    spec.grids.forEach(function (g) {
      var z = decode(g.z), rows = [];
      for (var j = 0; j < g.ny; j++) rows.push(Array.prototype.slice.call(z, j * g.nx, (j + 1) * g.nx));
      data[g.trace].z = rows;
    });
    (spec.polylines || []).forEach(function (l) {
      data[l.trace].x = Array.from(decode(l.x));
      data[l.trace].y = Array.from(decode(l.y));
    });
    var self = this;
    if (spec.kind === "lines") {
      this.series.forEach(function (d) {
        if (d.s.fixed) { data[d.s.t].x = Array.from(self.X); data[d.s.t].y = Array.from(d.Y); }
      });
    }
    return data;
  };

  // The arrays for the current step and combination: {upd: {x: [...], y: [...]}, idx: [...]}.
  Explorer.prototype.slices = function () {
    var spec = this.spec, c = this.combo(), k = this.step, xs = [], ys = [], ids = [];
    var self = this;
    function put(i, x, y) { ids.push(i); xs.push(x); ys.push(y); }
    if (spec.kind === "race") {
      this.series.forEach(function (d) {
        // Row r of this series; its path starts at X[px[r]], its losses at F[pf[r]].
        var s = d.s, t = s.t, r = s.m ? s.m[c] : c, end = s.end[r], div = s.div[r];
        var base = s.px[r], fb = s.pf[r];
        var e = Math.min(k, end), gone = div >= 0 && k >= div;
        put(t.path, d.X.subarray(base, base + e + 1), d.Y.subarray(base, base + e + 1));
        put(t.head, gone ? [] : [d.X[base + e]], gone ? [] : [d.Y[base + e]]);
        put(t.cross, gone ? [d.X[base + e]] : [], gone ? [d.Y[base + e]] : []);
        if (t.loss !== undefined) {
          var le = Math.min(k, div >= 0 ? div - 1 : spec.T);
          if (le < 0) le = 0;
          var fy = d.F[fb + le];
          put(t.loss, self.steps.subarray(0, le + 1), d.F.subarray(fb, fb + le + 1));
          put(t.lhead, gone ? [] : [le], gone ? [] : [fy]);
          put(t.lcross, gone ? [le] : [], gone ? [Math.min(fy, spec.yhi / 1.5)] : []);
        }
      });
    } else {
      var T = spec.T + 1, e2 = spec.animate ? k : spec.T;
      this.series.forEach(function (d) {
        if (d.s.fixed) return;
        var base = (d.s.m ? d.s.m[c] : c) * T;
        put(d.s.t, self.X.subarray(0, e2 + 1), d.Y.subarray(base, base + e2 + 1));
      });
    }
    return { upd: { x: xs, y: ys }, idx: ids };
  };

  Explorer.prototype.status = function () {
    var spec = this.spec, c = this.combo(), k = this.step, self = this;
    if (this.stepOut) {
      this.stepOut.textContent = spec.kind === "race"
        ? "step " + k + " / " + spec.T
        : spec.stepword + " = " + fmt(this.X[k]);
    }
    this.valueOuts.forEach(function (o, i) {
      o.textContent = spec.sliders[i].text[self.idx[i]];
    });
    if (spec.kind === "race" && this.statusEls) {
      this.series.forEach(function (d, j) {
        var s = d.s, r = s.m ? s.m[c] : c, div = s.div[r], msg;
        if (div >= 0 && k >= div) {
          msg = ": diverged at step " + div;
        } else {
          var f = d.F[s.pf[r] + Math.min(k, div >= 0 ? div - 1 : spec.T)];
          var txt = f <= spec.floor * 1.0001 ? "< " + fmt(spec.floor) : fmt(f);
          msg = ": " + spec.word + " " + txt + " at step " + k;
        }
        self.statusEls[j].text.textContent = msg;
      });
    }
    this.el.setAttribute("data-step", String(k));
    this.el.setAttribute("data-combo", String(c));
  };

  // One restyle per change.  (Plotly.animate with redraw:false would be faster but drops
  // the contour and the legend.)  Plotly redraws every trace on a restyle, which is why the
  // contour lines are a single precomputed polyline and the contour fill is unsmoothed.
  Explorer.prototype.draw = function (sl) {
    return window.Plotly.restyle(this.gd, sl.upd, sl.idx);
  };

  // Redraw; calls arriving while a redraw is in flight are merged into one.
  Explorer.prototype.render = function () {
    var self = this;
    if (this.busy) { this.pending = true; return this.busyPromise; }
    this.busy = true;
    this.status();
    var sl = this.slices();
    this.busyPromise = Promise.resolve(this.draw(sl))
      .then(function () {
        self.busy = false;
        if (self.pending) { self.pending = false; return self.render(); }
      }, function () { self.busy = false; self.pending = false; });
    return this.busyPromise;
  };

  Explorer.prototype.setPlaying = function (on) {
    this.playing = on;
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    if (this.playBtn) {
      this.playBtn.textContent = on ? "❚❚ Pause" : "▶ Play";
      this.playBtn.setAttribute("aria-label", on ? "Pause" : "Play");
    }
    if (on) this.tick();
  };

  Explorer.prototype.tick = function () {
    var self = this;
    if (!this.playing) return;
    if (this.step >= this.T) { this.setPlaying(false); return; }
    var t0 = Date.now();
    this.step += 1;
    if (this.stepInput) this.stepInput.value = String(this.step);
    this.render().then(function () {
      if (!self.playing) return;
      var wait = Math.max(0, 1000 / (self.spec.fps || 15) - (Date.now() - t0));
      self.timer = setTimeout(function () { self.tick(); }, wait);
    });
  };

  Explorer.prototype.wire = function () {
    var self = this, el = this.el, spec = this.spec;
    this.playBtn = el.querySelector(".ol-play");
    this.stepInput = el.querySelector(".ol-step");
    this.stepOut = el.querySelector(".ol-step-value");
    var params = Array.prototype.slice.call(el.querySelectorAll(".ol-param"));
    this.valueOuts = params.map(function (inp) {
      var lab = inp.parentNode;
      return lab.querySelector(".ol-value") || document.createElement("output");
    });
    if (this.playBtn) {
      this.playBtn.addEventListener("click", function () {
        if (self.playing) { self.setPlaying(false); return; }
        if (self.step >= self.T) {
          self.step = 0;
          if (self.stepInput) self.stepInput.value = "0";
          self.render();
        }
        self.setPlaying(true);
      });
    }
    if (this.stepInput) {
      this.stepInput.addEventListener("input", function () {
        if (self.playing) self.setPlaying(false);
        self.step = Math.max(0, Math.min(self.T, parseInt(self.stepInput.value, 10) || 0));
        self.render();
      });
    }
    params.forEach(function (inp) {
      var i = -1;
      spec.sliders.forEach(function (s, j) { if (s.name === inp.getAttribute("data-name")) i = j; });
      if (i < 0) return;
      inp.value = String(self.idx[i]);
      inp.addEventListener("input", function () {
        var n = spec.sliders[i].values.length;
        self.idx[i] = Math.max(0, Math.min(n - 1, parseInt(inp.value, 10) || 0));
        self.render();
      });
    });
    var box = el.querySelector(".ol-status");
    if (box && spec.kind === "race") {
      box.textContent = "";
      this.statusEls = this.series.map(function (d) {
        var span = document.createElement("span");
        span.setAttribute("data-label", d.s.label);
        var sw = document.createElement("i");
        sw.className = "ol-swatch";
        sw.style.background = d.s.color;
        var b = document.createElement("b");
        b.textContent = d.s.label;
        var text = document.createElement("span");
        span.appendChild(sw); span.appendChild(b); span.appendChild(text);
        box.appendChild(span);
        return { span: span, text: text };
      });
      // Grey out the status of optimizers hidden from the legend.
      if (this.gd.on) {
        this.gd.on("plotly_restyle", function () {
          self.series.forEach(function (d, j) {
            var tr = self.gd.data[d.s.t.path];
            var hidden = tr && (tr.visible === "legendonly" || tr.visible === false);
            self.statusEls[j].span.className = hidden ? "ol-hidden" : "";
          });
        });
      }
    }
  };

  function fail(el, message) {
    var plot = el.querySelector(".ol-plot");
    var fb = plot && plot.querySelector(".ol-fallback");
    if (fb) fb.textContent = message;
  }

  function start(el) {
    var spec;
    try {
      spec = JSON.parse(el.querySelector("script.optimlab-explorer-data").textContent);
    } catch (err) {
      el.__olMounting = false;
      fail(el, "Interactive figure: its data could not be read.");
      return;
    }
    var ex = new Explorer(el, spec);
    var fb = ex.gd.querySelector(".ol-fallback");
    var data = ex.figure();
    var config = spec.figure.config;
    window.Plotly.newPlot(ex.gd, data, spec.figure.layout, config).then(function () {
      if (fb && fb.parentNode) fb.parentNode.removeChild(fb);
      ex.wire();
      el.__olExplorer = ex;
      return ex.render();
    }).then(function () {
      el.setAttribute("data-ready", "1");
    }, function (err) {
      el.__olMounting = false;
      fail(el, "Interactive figure: plotting failed (" + err + ").");
    });
  }

  function mount(el) {
    if (!el || el.getAttribute("data-ready") === "1" || el.__olMounting) return;
    el.__olMounting = true;
    injectCSS();
    var tries = 0;
    (function wait() {
      if (window.Plotly && window.Plotly.newPlot && el.isConnected) { start(el); return; }
      tries += 1;
      if (tries === 100 && !window.Plotly) {
        fail(el, "Interactive figure: plotly.js is not loaded on this page. In Jupyter, run " +
          "optimlab.explorers.reset_session() and re-run this cell.");
      }
      setTimeout(wait, tries < 100 ? 50 : 500);
    })();
  }

  function mountAll() {
    var els = document.querySelectorAll(".optimlab-explorer");
    for (var i = 0; i < els.length; i++) mount(els[i]);
  }

  window.optimlabExplorer = { version: 1, mount: mount, mountAll: mountAll, decode: decode };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mountAll);
  } else {
    mountAll();
  }
})();
