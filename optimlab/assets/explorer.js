/*
 * optimlab explorer: one interactive figure for the static book, a notebook's output and the
 * lecturer's widget.  Written by optimlab/explorers.py (spec format, test hooks) and wrapped as
 * an anywidget by optimlab/widgets.py.
 *
 * One base, a view per figure: Explorer (controls, projector mode, Save PNG/SVG, widget sync, test
 * hooks; it draws nothing), LiveRace (runs computed in the page by optimlabEngine, engine.js, on
 * every change), ReplayRace and LinesView (precomputed 16-bit rows chosen by sliders); the
 * network view (network_view.js) is built on LiveExplorer.
 * Drawn on <canvas> (a cached contour background, paths and loss curves on top): a redraw after a
 * change costs a millisecond or two, and the page loads no plotting library.
 *
 * The spec (the figure's JSON) is versioned and documented in optimlab/explorers.py; a version not
 * in SPEC_VERSIONS is refused with a message in the figure.  Drawing constants (contour colours,
 * the minimum's colour, the loss floor) come from spec.style; the style sheet is explorer.css.
 * The pure parts (decode, displayEnd, lossLimits, surfaceGrid, percentile, ticks, specProblem) are
 * exported (module.exports under node) and held to optimlab by tests/test_explorer_js.py.
 *
 * Mounting: every <div class="optimlab-explorer"> holding <script type="application/json"
 * class="optimlab-explorer-data"> is mounted on DOMContentLoaded (or at once).  The widget calls
 * optimlabExplorer.create(el, spec, {state, onChange}).  Test hooks: data-ready="1" when drawn;
 * data-width: the width (px) of the last layout; data-step; data-start="x,y"; data-touch-drag="1"
 * while a long press drags the start; controls .ol-play, .ol-step, input.ol-param[data-name]
 * (data-opt for a per-optimizer learning rate), input.ol-num[data-name], .ol-toggle[data-label]
 * (aria-pressed), .ol-opt[data-label] .ol-held (a linked rate held at its limit), select.ol-surface,
 * .ol-reset, .ol-copy, .ol-link, .ol-sr (what the map's arrow keys announce); el.__ol is the
 * controller (snapshot(), toPixel(x, y), timing).
 */
(function (root) {
  "use strict";
  if (root.optimlabExplorer && root.optimlabExplorer.version >= 4) {
    if (root.document) root.optimlabExplorer.mountAll();
    return;
  }
  var doc = root.document;

  // The style sheet is its own asset, explorer.css (optimlab.explorers.stylesheet).

  // ------------------------------------------------------------------ small utilities
  function h(tag, attrs, kids) {
    var e = doc.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === undefined || v === null || v === false) return;
      if (k === "text") e.textContent = v;
      else if (k === "style") e.style.cssText = v;
      else e.setAttribute(k, v === true ? "" : String(v));
    });
    (kids || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }

  function clamp(v, lo, hi) { return Math.max(lo, Math.min(hi, v)); }

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
    return v.toExponential(2).replace("e+", "e").replace(/\.?0+e/, "e");
  }

  // A value as Python writes it (shortest round trip, like repr(float)).
  function py(v) {
    if (v === null) return "None";
    if (typeof v === "string") return JSON.stringify(v);
    if (typeof v === "boolean") return v ? "True" : "False";
    if (Array.isArray(v)) return "(" + v.map(py).join(", ") + ")";
    var s = String(v);
    return /e/.test(s) || !Number.isInteger(v) ? s : s + ".0";
  }

  var SUP = { "-": "⁻", "0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶",
              "7": "⁷", "8": "⁸", "9": "⁹" };
  function pow10(k) { return "10" + String(k).split("").map(function (c) { return SUP[c]; }).join(""); }

  function linTicks(lo, hi, n) {
    var span = hi - lo;
    if (!(span > 0)) return [lo];
    var raw = span / n, mag = Math.pow(10, Math.floor(Math.log10(raw))), r = raw / mag;
    var step = (r >= 5 ? 10 : r >= 2 ? 5 : r >= 1 ? 2 : 1) * mag;
    if (r < 1.5) step = mag;
    var out = [];
    for (var v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
      out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    }
    return out;
  }

  function tickLabel(v) {
    var a = Math.abs(v);
    if (a === 0) return "0";
    // 4 significant digits either way (toExponential(0) labelled 4.5e-4 "4e-4", 1.3e5 "1e5")
    if (a >= 1e-3 && a < 1e5) return String(Number(v.toPrecision(4)));
    return Number(v.toPrecision(4)).toExponential().replace("e+", "e");
  }

  // ------------------------------------------------------------------ Chart: axes on a canvas
  // Sizes on the canvas are CSS px at the explorer's base font size (15 px); a chart's k scales
  // them all (text, margins, line widths, markers) with the explorer's font size (projector mode).
  var FAMILY = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Arial,sans-serif", BASE_PX = 15;
  function font(px, weight) { return (weight ? weight + " " : "") + px.toFixed(2) + "px " + FAMILY; }

  function Chart(canvas, opts) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.m0 = opts.margin;
    this.m = opts.margin;
    this.equal = !!opts.equal;
    this.k = 1;           // scale of every size drawn
    this.dprOverride = 0; // a fixed pixel ratio (exports), else the screen's
    this.entries = [];    // the legend: [{label, color, dash}]
  }

  Chart.prototype.font = function (px, weight) { return font(px * this.k, weight); };

  // The legend: a box in the plot's top right corner (it never moves the plot, so that nothing
  // moves under the pointer when an optimizer is turned on), one entry a row, in columns when the
  // plot is too short; each entry's place, relative to the canvas.
  Chart.prototype.legendLayout = function () {
    var c = this.ctx, k = this.k, r = this.rect, sw = 22 * k, pad = 6 * k, rowH = 19 * k, n = this.entries.length;
    if (!n || !r) return null;
    c.font = this.font(13);
    var perCol = Math.max(1, Math.min(n, Math.floor((r.h - 2 * pad) / rowH))), cols = Math.ceil(n / perCol);
    var colW = sw + 6 * k + Math.max.apply(null, this.entries.map(function (e) { return c.measureText(e.label).width; }));
    var w = cols * colW + (cols - 1) * 12 * k + 2 * pad, hh = Math.min(n, perCol) * rowH + 2 * pad;
    var x0 = r.x + r.w - w - 4 * k, y0 = r.y + 4 * k;
    return { x: x0, y: y0, w: w, h: hh, places: this.entries.map(function (e, i) {
      var col = Math.floor(i / perCol);
      return { e: e, x: x0 + pad + col * (colW + 12 * k), y: y0 + pad + (i % perCol + 0.5) * rowH, w: colW, h: rowH };
    }) };
  };

  Chart.prototype.drawLegend = function () {
    var c = this.ctx, k = this.k, L = this.legend = this.legendLayout();
    if (!L) return;
    c.save();
    c.fillStyle = "rgba(255,255,255,0.88)"; c.strokeStyle = "#999"; c.lineWidth = k;
    c.beginPath(); c.rect(L.x, L.y, L.w, L.h); c.fill(); c.stroke();
    c.font = this.font(13); c.textAlign = "left"; c.textBaseline = "middle";
    L.places.forEach(function (p) {
      var e = p.e;
      c.strokeStyle = e.color; c.lineWidth = 3 * k; c.lineCap = "butt";
      c.setLineDash((e.dash || []).map(function (d) { return d * k; }));
      c.beginPath(); c.moveTo(p.x, p.y); c.lineTo(p.x + 22 * k, p.y); c.stroke();
      c.setLineDash([]);
      c.fillStyle = "#1d1d1f";
      c.fillText(e.label, p.x + 28 * k, p.y);
    });
    c.restore();
  };

  // Size the canvas (CSS px) and fit the plot rectangle; with equal, keep the data aspect.
  Chart.prototype.layout = function (w, hgt, xr, yr, logx, logy) {
    var dpr = this.dprOverride || root.devicePixelRatio || 1, k = this.k, m0 = this.m0;
    var m = this.m = { l: m0.l * k, r: m0.r * k, b: m0.b * k, t: m0.t * k };
    this.xr = xr; this.yr = yr; this.logx = !!logx; this.logy = !!logy;
    var pw = Math.max(40, w - m.l - m.r), ph = Math.max(40, hgt - m.t - m.b);
    if (this.equal) {
      var aspect = (yr[1] - yr[0]) / (xr[1] - xr[0]);
      if (pw * aspect > ph) pw = ph / aspect; else ph = pw * aspect;
      hgt = ph + m.t + m.b;
    }
    this.w = w; this.h = hgt;
    this.rect = { x: m.l + Math.max(0, (w - m.l - m.r - pw) / 2), y: m.t, w: pw, h: ph };
    if (this.canvas.width !== Math.round(w * dpr) || this.canvas.height !== Math.round(hgt * dpr)) {
      this.canvas.width = Math.round(w * dpr);
      this.canvas.height = Math.round(hgt * dpr);
    }
    this.canvas.style.width = w + "px";
    this.canvas.style.height = hgt + "px";
    this.dpr = dpr;
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    return hgt;
  };

  Chart.prototype.fx = function (x) {
    var r = this.rect, a = this.xr[0], b = this.xr[1];
    if (this.logx) { x = Math.log10(x); }
    return r.x + (x - a) / (b - a) * r.w;
  };
  Chart.prototype.fy = function (y) {
    var r = this.rect, a = this.yr[0], b = this.yr[1];
    if (this.logy) { y = Math.log10(y); }
    return r.y + r.h - (y - a) / (b - a) * r.h;
  };
  Chart.prototype.inv = function (px, pyy) {
    var r = this.rect;
    var x = this.xr[0] + (px - r.x) / r.w * (this.xr[1] - this.xr[0]);
    var y = this.yr[0] + (r.y + r.h - pyy) / r.h * (this.yr[1] - this.yr[0]);
    return [this.logx ? Math.pow(10, x) : x, this.logy ? Math.pow(10, y) : y];
  };
  Chart.prototype.inside = function (px, pyy) {
    var r = this.rect;
    return px >= r.x && px <= r.x + r.w && pyy >= r.y && pyy <= r.y + r.h;
  };

  Chart.prototype.clear = function () {
    this.ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    this.ctx.clearRect(0, 0, this.w, this.h);
  };

  Chart.prototype.clip = function (on) {
    var c = this.ctx, r = this.rect;
    if (on) { c.save(); c.beginPath(); c.rect(r.x, r.y, r.w, r.h); c.clip(); } else c.restore();
  };

  function ticksFor(range, log, n) {
    if (!log) return linTicks(range[0], range[1], n).map(function (v) { return [v, tickLabel(v)]; });
    var a = Math.ceil(range[0] - 1e-9), b = Math.floor(range[1] + 1e-9), k = Math.max(1, Math.ceil((b - a + 1) / (n + 1)));
    var out = [];
    for (var e = a; e <= b; e++) if ((e - a) % k === 0) out.push([Math.pow(10, e), pow10(e)]);
    return out;
  }

  Chart.prototype.axes = function (xlabel, ylabel, grid) {
    var c = this.ctx, r = this.rect, self = this;
    var k = this.k;
    c.font = this.font(14); c.fillStyle = "#333"; c.strokeStyle = "#555"; c.lineWidth = k;
    var xt = ticksFor(this.xr, this.logx, Math.max(2, Math.floor(r.w / (80 * k))));
    var yt = ticksFor(this.yr, this.logy, Math.max(2, Math.floor(r.h / (50 * k))));
    if (grid) {
      c.strokeStyle = "#ececec";
      c.beginPath();
      xt.forEach(function (t) { var x = Math.round(self.fx(t[0])) + 0.5; c.moveTo(x, r.y); c.lineTo(x, r.y + r.h); });
      yt.forEach(function (t) { var y = Math.round(self.fy(t[0])) + 0.5; c.moveTo(r.x, y); c.lineTo(r.x + r.w, y); });
      c.stroke();
      c.strokeStyle = "#555";
    }
    c.strokeRect(Math.round(r.x) + 0.5, Math.round(r.y) + 0.5, Math.round(r.w), Math.round(r.h));
    c.textAlign = "center"; c.textBaseline = "top";
    c.beginPath();
    xt.forEach(function (t) {
      var x = Math.round(self.fx(t[0])) + 0.5;
      c.moveTo(x, r.y + r.h); c.lineTo(x, r.y + r.h + 5 * k);
      c.fillText(t[1], x, r.y + r.h + 7 * k);
    });
    c.textAlign = "right"; c.textBaseline = "middle";
    yt.forEach(function (t) {
      var y = Math.round(self.fy(t[0])) + 0.5;
      c.moveTo(r.x - 5 * k, y); c.lineTo(r.x, y);
      c.fillText(t[1], r.x - 7 * k, y);
    });
    c.stroke();
    c.textAlign = "center"; c.textBaseline = "bottom";
    if (xlabel) c.fillText(xlabel, r.x + r.w / 2, this.h - 2 * k);
    if (ylabel) {
      c.save(); c.translate(13 * k, r.y + r.h / 2); c.rotate(-Math.PI / 2);
      c.textBaseline = "middle"; c.fillText(ylabel, 0, 0); c.restore();
    }
  };

  // A polyline through points get(i) = [x, y], i in [0, n); NaN breaks the line.
  // `tag` names the line in an SVG export (class ol-run, data-label).
  Chart.prototype.line = function (get, n, color, width, dash, tag) {
    var c = this.ctx, pen = false, k = this.k;
    c.strokeStyle = color; c.lineWidth = width * k;
    c.setLineDash((dash || []).map(function (d) { return d * k; }));
    c.tag = tag || null;
    c.lineJoin = "round"; c.lineCap = "round";
    c.beginPath();
    for (var i = 0; i < n; i++) {
      var p = get(i);
      if (!(isFinite(p[0]) && isFinite(p[1]))) { pen = false; continue; }
      var x = this.fx(p[0]), y = this.fy(p[1]);
      if (!(isFinite(x) && isFinite(y))) { pen = false; continue; }
      if (pen) c.lineTo(x, y); else c.moveTo(x, y);
      pen = true;
    }
    c.stroke();
    c.setLineDash([]);
    c.tag = null;
  };

  Chart.prototype.dots = function (get, n, color, radius) {
    var c = this.ctx;
    radius *= this.k;
    c.fillStyle = color;
    c.beginPath();
    for (var i = 0; i < n; i++) {
      var p = get(i), x = this.fx(p[0]), y = this.fy(p[1]);
      if (!(isFinite(x) && isFinite(y))) continue;
      c.moveTo(x + radius, y); c.arc(x, y, radius, 0, 2 * Math.PI);
    }
    c.fill();
  };

  Chart.prototype.marker = function (x, y, kind, color, size) {
    var c = this.ctx, X = this.fx(x), Y = this.fy(y);
    if (!(isFinite(X) && isFinite(Y))) return;
    X = clamp(X, this.rect.x, this.rect.x + this.rect.w);
    Y = clamp(Y, this.rect.y, this.rect.y + this.rect.h);
    var k = this.k;
    size *= k;
    c.save();
    c.lineWidth = 1.6 * k;
    if (kind === "head") {
      c.beginPath(); c.arc(X, Y, size, 0, 2 * Math.PI);
      c.fillStyle = color; c.fill(); c.strokeStyle = "#fff"; c.stroke();
    } else if (kind === "start") {
      c.beginPath(); c.arc(X, Y, size, 0, 2 * Math.PI);
      c.fillStyle = "#fff"; c.fill(); c.strokeStyle = "#000"; c.stroke();
    } else if (kind === "cross") {
      c.lineCap = "round";
      c.strokeStyle = "#fff"; c.lineWidth = 5.5 * k; cross(c, X, Y, size); c.stroke();
      c.strokeStyle = color; c.lineWidth = 3 * k; cross(c, X, Y, size); c.stroke();
    } else if (kind === "star") {
      c.beginPath();
      for (var k = 0; k < 10; k++) {
        var rad = k % 2 ? size * 0.45 : size, a = -Math.PI / 2 + k * Math.PI / 5;
        c.lineTo(X + rad * Math.cos(a), Y + rad * Math.sin(a));
      }
      c.closePath(); c.fillStyle = color; c.fill(); c.strokeStyle = "#000"; c.lineWidth = k; c.stroke();
    }
    c.restore();
  };

  function cross(c, X, Y, s) {
    c.beginPath(); c.moveTo(X - s, Y - s); c.lineTo(X + s, Y + s); c.moveTo(X - s, Y + s); c.lineTo(X + s, Y - s);
  }

  // ------------------------------------------------------------------ contour background
  // The colours, the number of levels and the loss floor come from the spec (spec.style, written
  // by optimlab.explorers.spec_style from optimlab.style); only the grid's resolution is the page's.
  var GRID = 90;

  // What to contour (the rule of optimlab.style.contour_data): log10(f − f*) with log-spaced
  // levels when the surface asks for them, else f with linear levels.
  function surfaceGrid(S, sp, n, nLevels) {
    var w = sp.window, nx = n, ny = n, Z = new Float64Array(nx * ny), i, j, v;
    for (j = 0; j < ny; j++) {
      var y = w[1][0] + (w[1][1] - w[1][0]) * j / (ny - 1);
      for (i = 0; i < nx; i++) Z[j * nx + i] = S.f(w[0][0] + (w[0][1] - w[0][0]) * i / (nx - 1), y);
    }
    var finite = Array.prototype.filter.call(Z, isFinite);
    var lo, hi, levels = [];
    if (sp.logLevels) {
      var base = sp.fmin !== null ? sp.fmin : Math.min.apply(null, finite);
      var pos = finite.map(function (f) { return f - base; }).filter(function (g) { return g > 0; });
      pos.sort(function (a, b) { return a - b; });
      hi = pos.length ? pos[pos.length - 1] : 1;
      lo = Math.max(pos.length ? percentile(pos, 1) : 1e-3, hi * 1e-12);
      for (i = 0; i < Z.length; i++) { v = Z[i] - base; Z[i] = Math.log10(Math.max(isNaN(v) ? lo : v, lo)); }
      lo = Math.log10(lo); hi = Math.log10(hi);
    } else {
      lo = Math.min.apply(null, finite); hi = Math.max.apply(null, finite);
    }
    for (i = 0; i < nLevels; i++) levels.push(lo + (hi - lo) * i / (nLevels - 1));
    return { nx: nx, ny: ny, z: Z, levels: levels, window: w };
  }

  function percentile(sorted, p) {  // numpy's default (linear) on a sorted array
    var k = (sorted.length - 1) * p / 100, f = Math.floor(k), c = Math.min(f + 1, sorted.length - 1);
    return sorted[f] + (sorted[c] - sorted[f]) * (k - f);
  }

  function hexrgb(s) { return [1, 3, 5].map(function (k) { return parseInt(s.substr(k, 2), 16); }); }

  // Line segments of the contours (marching squares), in grid coordinates.
  function contourSegments(g) {
    var nx = g.nx, ny = g.ny, Z = g.z, out = [];
    g.levels.forEach(function (L) {
      for (var j = 0; j < ny - 1; j++) {
        for (var i = 0; i < nx - 1; i++) {
          var a = Z[j * nx + i], b = Z[j * nx + i + 1], c = Z[(j + 1) * nx + i + 1], d = Z[(j + 1) * nx + i];
          var k = (a > L ? 1 : 0) | (b > L ? 2 : 0) | (c > L ? 4 : 0) | (d > L ? 8 : 0);
          if (k === 0 || k === 15) continue;
          var pts = [];
          if ((k & 1) !== ((k >> 1) & 1)) pts.push(i + (L - a) / (b - a), j);
          if (((k >> 1) & 1) !== ((k >> 2) & 1)) pts.push(i + 1, j + (L - b) / (c - b));
          if (((k >> 2) & 1) !== ((k >> 3) & 1)) pts.push(i + (L - d) / (c - d), j + 1);
          if (((k >> 3) & 1) !== (k & 1)) pts.push(i, j + (L - a) / (d - a));
          for (var q = 0; q + 3 < pts.length; q += 4) out.push(pts[q], pts[q + 1], pts[q + 2], pts[q + 3]);
        }
      }
    });
    return new Float64Array(out);
  }

  function Background(g, style) {
    this.g = g;
    this.lineColor = style.contour_line;
    this.segments = contourSegments(g);
    var nx = g.nx, ny = g.ny, lv = g.levels, lo = lv[0], hi = lv[lv.length - 1];
    var cols = style.contour.map(hexrgb);
    this.image = doc.createElement("canvas");
    this.image.width = nx; this.image.height = ny;
    var ictx = this.image.getContext("2d"), img = ictx.createImageData(nx, ny);
    for (var j = 0; j < ny; j++) {
      for (var i = 0; i < nx; i++) {
        var t = clamp((g.z[j * nx + i] - lo) / ((hi - lo) || 1), 0, 1) * 2, k = Math.min(1, Math.floor(t));
        var f = t - k, o = ((ny - 1 - j) * nx + i) * 4;
        for (var ch = 0; ch < 3; ch++) img.data[o + ch] = cols[k][ch] + (cols[k + 1][ch] - cols[k][ch]) * f;
        img.data[o + 3] = 255;
      }
    }
    ictx.putImageData(img, 0, 0);
    this.cache = null;
  }

  // The filled levels and the contour lines in the chart's plot rectangle, on context c (CSS px).
  Background.prototype.paint = function (c, chart) {
    var r = chart.rect, g = this.g, s = this.segments;
    c.imageSmoothingEnabled = true;
    var dx = r.w / (g.nx - 1), dy = r.h / (g.ny - 1);
    c.save(); c.beginPath(); c.rect(r.x, r.y, r.w, r.h); c.clip();
    c.drawImage(this.image, r.x - dx / 2, r.y - dy / 2, r.w + dx, r.h + dy);
    c.strokeStyle = this.lineColor; c.lineWidth = 0.8 * chart.k; c.beginPath();
    for (var q = 0; q < s.length; q += 4) {
      c.moveTo(r.x + s[q] * dx, r.y + r.h - s[q + 1] * dy);
      c.lineTo(r.x + s[q + 2] * dx, r.y + r.h - s[q + 3] * dy);
    }
    c.stroke(); c.restore();
  };

  // The background for a chart of this size, drawn once into an offscreen canvas (an SVG export
  // draws it anew, as vectors).
  Background.prototype.draw = function (chart) {
    var ctx = chart.ctx;
    if (ctx.isSvg) { this.paint(ctx, chart); return; }
    var key = [chart.canvas.width, chart.canvas.height, chart.rect.x, chart.rect.y, chart.rect.w, chart.rect.h, chart.k].join();
    if (!this.cache || this.cache.key !== key) {
      var off = doc.createElement("canvas");
      off.width = chart.canvas.width; off.height = chart.canvas.height;
      var c = off.getContext("2d");
      c.setTransform(chart.dpr, 0, 0, chart.dpr, 0, 0);
      this.paint(c, chart);
      this.cache = { key: key, canvas: off };
    }
    ctx.save(); ctx.setTransform(1, 0, 0, 1, 0, 0); ctx.drawImage(this.cache.canvas, 0, 0); ctx.restore();
  };

  // ------------------------------------------------------------------ SVG export
  // A stand-in for a canvas's 2D context that records what the charts draw as SVG elements: the
  // same drawing code makes the picture on the screen and the exported SVG.  It knows the calls
  // the charts make (paths, full-circle arcs, rectangles, clipping, text, translate and rotate);
  // the canvas's pixel-ratio transform is dropped (SVG units are CSS px).
  function esc(t) {
    return String(t).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }
  function num(v) { return String(Math.round(v * 100) / 100); }

  var SVG_STYLE = ["strokeStyle", "fillStyle", "lineWidth", "font", "textAlign", "textBaseline", "lineCap",
                   "lineJoin", "dash", "m", "tag"];

  function SvgContext(measure) {
    this.isSvg = true;
    this.out = [];
    this.d = "";
    this.m = [1, 0, 0, 1, 0, 0];
    this.stack = [];
    this.groups = 0;
    this.clips = 0;
    this.measure = measure;  // a real 2D context, for measureText
    this.strokeStyle = "#000"; this.fillStyle = "#000"; this.lineWidth = 1; this.font = font(14);
    this.textAlign = "start"; this.textBaseline = "alphabetic"; this.lineCap = "butt"; this.lineJoin = "miter";
    this.dash = []; this.tag = null;
  }
  var SV = SvgContext.prototype;
  SV.pt = function (x, y) {
    var m = this.m;
    return [m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]];
  };
  SV.setTransform = function () { this.m = [1, 0, 0, 1, 0, 0]; };
  SV.translate = function (x, y) { var p = this.pt(x, y); this.m = this.m.slice(0, 4).concat(p); };
  SV.rotate = function (a) {
    var m = this.m, c = Math.cos(a), s = Math.sin(a);
    this.m = [m[0] * c + m[2] * s, m[1] * c + m[3] * s, -m[0] * s + m[2] * c, -m[1] * s + m[3] * c, m[4], m[5]];
  };
  SV.save = function () {
    var self = this, st = { groups: this.groups };
    SVG_STYLE.forEach(function (k) { st[k] = self[k]; });
    this.stack.push(st);
    this.groups = 0;
  };
  SV.restore = function () {
    var st = this.stack.pop(), self = this;
    while (this.groups-- > 0) this.out.push("</g>");
    SVG_STYLE.forEach(function (k) { self[k] = st[k]; });
    this.groups = st.groups;
  };
  SV.setLineDash = function (d) { this.dash = d.slice(); };
  SV.clearRect = function () {};
  SV.beginPath = function () { this.d = ""; };
  SV.moveTo = function (x, y) { var p = this.pt(x, y); this.d += "M" + num(p[0]) + " " + num(p[1]); };
  SV.lineTo = function (x, y) { var p = this.pt(x, y); this.d += (this.d ? "L" : "M") + num(p[0]) + " " + num(p[1]); };
  SV.closePath = function () { this.d += "Z"; };
  SV.rect = function (x, y, w, hh) { this.moveTo(x, y); this.lineTo(x + w, y); this.lineTo(x + w, y + hh); this.lineTo(x, y + hh); this.closePath(); };
  // Arcs: the charts draw whole circles (dots and markers); anything else as a polyline.
  SV.arc = function (x, y, r, a0, a1) {
    if (a1 - a0 >= 2 * Math.PI - 1e-9) {
      var p = this.pt(x + r, y), q = this.pt(x - r, y), R = num(r);
      this.d += (this.d ? "L" : "M") + num(p[0]) + " " + num(p[1]) + "A" + R + " " + R + " 0 1 0 " + num(q[0]) + " " +
        num(q[1]) + "A" + R + " " + R + " 0 1 0 " + num(p[0]) + " " + num(p[1]);
      return;
    }
    for (var i = 0; i <= 24; i++) {
      var a = a0 + (a1 - a0) * i / 24;
      this.lineTo(x + r * Math.cos(a), y + r * Math.sin(a));
    }
  };
  SV.attrs = function () {
    return this.tag ? ' class="ol-run" data-label="' + esc(this.tag) + '"' : "";
  };
  SV.stroke = function () {
    if (!this.d) return;
    this.out.push('<path d="' + this.d + '" fill="none" stroke="' + esc(this.strokeStyle) + '" stroke-width="' +
      num(this.lineWidth) + '" stroke-linecap="' + this.lineCap + '" stroke-linejoin="' + this.lineJoin + '"' +
      (this.dash.length ? ' stroke-dasharray="' + this.dash.map(num).join(" ") + '"' : "") + this.attrs() + "/>");
  };
  SV.fill = function () {
    if (this.d) this.out.push('<path d="' + this.d + '" fill="' + esc(this.fillStyle) + '"' + this.attrs() + "/>");
  };
  SV.strokeRect = function (x, y, w, hh) { var d = this.d; this.beginPath(); this.rect(x, y, w, hh); this.stroke(); this.d = d; };
  SV.fillRect = function (x, y, w, hh) { var d = this.d; this.beginPath(); this.rect(x, y, w, hh); this.fill(); this.d = d; };
  SV.clip = function () {
    var id = "olclip" + (++this.clips) + "-" + Math.random().toString(36).slice(2, 7);
    this.out.push('<clipPath id="' + id + '"><path d="' + this.d + '"/></clipPath><g clip-path="url(#' + id + ')">');
    this.groups++;
  };
  SV.measureText = function (t) { this.measure.font = this.font; return this.measure.measureText(t); };
  var ANCHOR = { left: "start", start: "start", center: "middle", right: "end", end: "end" };
  var BASELINE = { top: "text-before-edge", hanging: "hanging", middle: "central", bottom: "text-after-edge" };
  SV.fillText = function (text, x, y) {
    var f = /^(?:(\d+) )?([\d.]+)px (.*)$/.exec(this.font) || [null, null, "14", FAMILY], m = this.m;
    var plain = m[0] === 1 && m[1] === 0 && m[2] === 0 && m[3] === 1, p = plain ? this.pt(x, y) : [x, y];
    this.out.push('<text x="' + num(p[0]) + '" y="' + num(p[1]) + '"' +
      (plain ? "" : ' transform="matrix(' + m.map(num).join(" ") + ')"') +
      ' font-size="' + f[2] + '"' + (f[1] ? ' font-weight="' + f[1] + '"' : "") +
      ' text-anchor="' + (ANCHOR[this.textAlign] || "start") + '"' +
      (BASELINE[this.textBaseline] ? ' dominant-baseline="' + BASELINE[this.textBaseline] + '"' : "") +
      ' fill="' + esc(this.fillStyle) + '">' + esc(text) + "</text>");
  };
  SV.drawImage = function (img, x, y, w, hh) {
    var p = this.pt(x, y);
    this.out.push('<image href="' + img.toDataURL("image/png") + '" x="' + num(p[0]) + '" y="' + num(p[1]) +
      '" width="' + num(w) + '" height="' + num(hh) + '" preserveAspectRatio="none"/>');
  };

  // ------------------------------------------------------------------ drawing rules
  // A diverged run is cut at its last in-bound point, or where it left the window for good
  // (optimlab.style.display_path); returns the index of the last point to draw.
  function displayEnd(xs, n, div, w) {
    if (div < 0) return { end: n - 1 };
    var end = Math.max(div - 1, 0);
    function inside(i) {
      var x = xs[2 * i], y = xs[2 * i + 1];
      return x >= w[0][0] && x <= w[0][1] && y >= w[1][0] && y <= w[1][1];
    }
    if (inside(end)) return { end: end };
    for (var e = end; e >= 0; e--) {
      if (inside(e)) {
        var p = [xs[2 * e], xs[2 * e + 1]], q = [xs[2 * e + 2], xs[2 * e + 3]], t = 1;
        for (var k = 0; k < 2; k++) {
          var d = q[k] - p[k];
          if (d > 0 && q[k] > w[k][1]) t = Math.min(t, (w[k][1] - p[k]) / d);
          else if (d < 0 && q[k] < w[k][0]) t = Math.min(t, (w[k][0] - p[k]) / d);
        }
        t = Math.max(t, 0);
        return { end: e + 1, exit: [p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])] };
      }
    }
    return { end: end };
  }

  // Log-axis limits for the loss panel (optimlab.style.loss_limits): runs [{gap, div}], the losses
  // f − f* clipped at floor.
  function lossLimits(runs, floor) {
    var start = -Infinity, hi, lo = Infinity;
    runs.forEach(function (r) { if (isFinite(r.gap[0])) start = Math.max(start, r.gap[0], floor); });
    if (!isFinite(start)) start = 1;
    hi = start;
    runs.forEach(function (r) {
      for (var i = 0; i < r.gap.length; i++) {
        var g = r.gap[i];
        if (!isFinite(g)) continue;
        g = Math.max(g, floor);
        if (r.div < 0) hi = Math.max(hi, g);
        lo = Math.min(lo, g);
      }
    });
    if (start > floor) hi = Math.min(hi, start * 1e4);
    if (!isFinite(lo)) lo = floor;
    lo = Math.max(Math.min(lo, hi / 10), floor);
    return [Math.log10(lo / 3), Math.log10(hi * 3)];
  }

  var reduceMotion = function () {
    return !!(root.matchMedia && root.matchMedia("(prefers-reduced-motion: reduce)").matches);
  };

  // ------------------------------------------------------------------ layout
  var GAP = 8, SIDE_BY_SIDE = 700;  // px between map and loss panel; narrowest width for both in a row

  // The width an element's content gets, fractional as the browser lays it out (756.81 px in a
  // 1366 px window), or null when it is not laid out (hidden).
  function contentWidth(el) {
    var cs = root.getComputedStyle ? root.getComputedStyle(el) : null, w = cs ? parseFloat(cs.width) : NaN;
    return isFinite(w) && w > 0 ? w : null;
  }

  // Canvas sizes (whole CSS px) for a container `width` px wide and a window `vh` px high: map and
  // loss panel side by side from SIDE_BY_SIDE px on, never wider together than the container (the
  // container's width is rounded down: canvases sized from a rounded-up width wrap the loss panel).
  function raceLayout(width, vh, lossPanel) {
    var W = Math.max(1, Math.floor(width || 640)), side = lossPanel && W >= SIDE_BY_SIDE;
    var map = side ? Math.floor((W - GAP) / 2) : W, maxH = Math.max(260, Math.min(520, vh * 0.62));
    return { width: W, side: side, map: map, loss: side ? W - GAP - map : W, maxH: maxH,
             lossH: Math.min(260, maxH) };
  }

  // Projector mode: map and loss panel side by side or stacked in a W × H place, whichever draws
  // the larger map (its data aspect fixed); side by side the map takes at most 62 % of the width.
  function projectorLayout(W, H, map, win) {
    var k = map.k, m = map.m0, ml = (m.l + m.r) * k, mt = (m.t + m.b) * k;
    var aspect = (win[1][1] - win[1][0]) / (win[0][1] - win[0][0]);
    var sideW = Math.floor(Math.min(0.62 * (W - GAP), (H - mt) / aspect + ml));
    var pwSide = Math.min(sideW - ml, (H - mt) / aspect), stackH = Math.floor(0.64 * H);
    var pwStack = Math.min(W - ml, (stackH - mt) / aspect);
    return pwSide >= pwStack ? { side: true, map: sideW, mapH: H } : { side: false, map: W, mapH: stackH };
  }

  // ------------------------------------------------------------------ the base: Explorer
  // A view supplies init(given) (its state), resetPatch(); its controls (buildHead, buildFigure,
  // optionEntries, rowField, buildSliders, buildNotes); compute() (its runs); its charts (charts,
  // layoutFigure, drawCharts, legendEntries); caption, stepText, figureName, drawn (test hooks).
  function Explorer(el, spec, opts) {
    opts = opts || {};
    this.el = el;
    this.spec = spec;
    this.onChange = opts.onChange || null;
    this.style = spec.style;  // drawing constants (races): see optimlab.explorers.spec_style
    this.timing = { last: null, n: 0, draws: 0 };  // input event → painted frame (ms), see draw()
    this.playing = false;
    this.hidden = {};
    this.init(opts.state);
    this.build();
    this.compute();
    this.relayout();
  }

  var P = Explorer.prototype;

  // A view built on Base, with the methods of the mixins it shares with other views.
  function view(Base, mixins) {
    function View(el, spec, opts) { Base.call(this, el, spec, opts); }
    var V = View.prototype = Object.create(Base.prototype);
    V.constructor = View;
    mixins.forEach(function (m) { Object.keys(m).forEach(function (k) { V[k] = m[k]; }); });
    return View;
  }

  P.compute = function () {};
  P.T = function () { return this.spec.T; };
  P.title = function () { return this.spec.title || ""; };
  P.figureName = function () { return this.spec.title || "figure"; };
  P.resettable = function () { return true; };
  P.togglesLabel = "optimizers shown";
  P.rowsShown = true;
  P.buildHead = function () {};
  P.buildNotes = function () {};
  P.rowField = function () { return null; };
  P.drawn = function () {};

  // ---------------------------------------------------------------- building the controls
  P.build = function () {
    var el = this.el, spec = this.spec, self = this;
    el.textContent = "";
    el.classList.add("ol-mounted");
    this.fields = {};
    this.titleEl = h("span", { "class": "ol-title", text: spec.title || "" });
    var head = h("div", { "class": "ol-head" }, [this.titleEl]);
    el.appendChild(head);
    this.buildHead(head);
    if (this.resettable()) {
      var reset = h("button", { type: "button", "class": "ol-reset", text: "↺ Reset",
                                 "aria-label": "Reset to the chapter's setting" });
      reset.addEventListener("click", function (ev) { self.reset(ev); });
      head.appendChild(reset);
    }
    head.appendChild(this.tools());
    this.said = h("div", { "class": "ol-sr", "aria-live": "polite" });  // for screen readers
    el.appendChild(this.said);
    // The figure.
    var fig = h("div", { "class": "ol-figure" });
    el.appendChild(fig);
    this.figure = fig;
    this.buildFigure(fig);
    // Time: play and scrub.
    if (spec.animate) {
      this.playBtn = h("button", { type: "button", "class": "ol-play", "aria-label": "Play", text: "▶ Play" });
      this.stepInput = h("input", { type: "range", "class": "ol-step", min: 0, max: this.T(), step: 1,
                                    value: this.state.step, "aria-label": spec.stepword || "step" });
      this.stepOut = h("output", {});
      el.appendChild(h("div", { "class": "ol-row ol-time" }, [this.playBtn, this.stepInput, this.stepOut]));
      this.playBtn.addEventListener("click", function (ev) { self.togglePlay(true); });
      this.stepInput.addEventListener("input", function (ev) {
        self.pause();
        self.set({ step: parseInt(self.stepInput.value, 10) || 0 }, ev);
      });
    }
    // Optimizers (or curves): a row of toggles, then (races) a row per optimizer shown.
    this.rows = {};
    var toggles = h("div", { "class": "ol-toggles", role: "group", "aria-label": this.togglesLabel });
    var rows = h("div", { "class": "ol-opts" });
    // The controls below the figure; in projector mode, a column beside it.
    var side = this.side = h("div", { "class": "ol-side" });
    el.appendChild(side);
    side.appendChild(toggles);
    if (this.rowsShown) side.appendChild(rows);
    this.optionEntries().forEach(function (o) {
      var r = self.optionRow(o);
      toggles.appendChild(r.btn);
      rows.appendChild(r.row);
    });
    // Shared sliders.
    var knobs = h("div", { "class": "ol-row ol-knobs" });
    side.appendChild(knobs);
    this.buildSliders(knobs);
    this.error = h("div", { "class": "ol-error", role: "alert" });
    side.appendChild(this.error);
    this.buildNotes(side);
    // Keyboard: space plays and pauses when the focus is on the figure or a slider.  Keys pressed
    // in the explorer stay there (a notebook would otherwise move between cells on an arrow key).
    el.addEventListener("keydown", function (ev) { ev.stopPropagation(); });
    this.wireProjector();
    el.addEventListener("keydown", function (ev) {
      var t = ev.target, tag = (t.tagName || "").toLowerCase();
      if ((ev.key === " " || ev.code === "Space") && self.playBtn &&
          !(tag === "button" || tag === "select" || (tag === "input" && t.type !== "range" && t.type !== "checkbox"))) {
        ev.preventDefault();
        self.togglePlay(true);
      }
    });
    this.watchSize();
    this.syncControls();
  };

  // Lay the explorer out again, once per frame at most, whenever its element changes size.
  P.watchSize = function () {
    var self = this;
    if (!root.ResizeObserver) return;
    this.ro = new root.ResizeObserver(function () {
      if (self.rafResize) return;
      self.rafResize = root.requestAnimationFrame(function () { self.rafResize = null; self.relayout(); });
    });
    this.ro.observe(this.el);
  };

  // An optimizer's (or a curve's) toggle, and its row: name, learning rate (rowField), status.
  P.optionRow = function (o) {
    var self = this, python = !!o.python;
    var name = o.label + (python ? " (Python)" : "");
    function swatch() { return h("i", { "class": "ol-swatch", style: "background:" + o.color }); }
    var btn = h("button", { type: "button", "class": "ol-toggle", "data-label": o.label,
                            "aria-pressed": "true", "aria-label": "show " + name, style: "border-color:" + o.color },
                [swatch(), h("span", { text: name })]);
    btn.addEventListener("click", function (ev) { self.toggle(o.label, ev); });
    var status = h("span", { "class": "ol-status" }), held = h("span", { "class": "ol-held", "aria-live": "polite" });
    var row = h("div", { "class": "ol-opt", "data-label": o.label },
                [h("span", { "class": "ol-name" }, [swatch(), h("span", { text: name })])]);
    var field = this.rowField(o);
    if (field) row.appendChild(field);
    row.appendChild(status);
    row.appendChild(held);
    this.rows[o.label] = { row: row, btn: btn, status: status, held: held, python: python };
    return this.rows[o.label];
  };

  // A slider with a number box: continuous (log for the learning rate) in live mode.  The box is
  // a text field, so that what was typed can be quoted back when it is not a number; ArrowUp and
  // ArrowDown in it step like the slider (×10^0.1 on a log scale; Shift: ten steps).
  P.field = function (k) {
    var self = this, name = k.name, log = !!k.log;
    var id = name + (k.opt ? ":" + k.opt : "");
    var lo = log ? Math.log10(k.min) : k.min, hi = log ? Math.log10(k.max) : k.max;
    var step = k.step || (log ? 0.01 : (k.max - k.min) / 1000);
    var label = k.label || name, who = k.opt ? " of " + k.opt : "";
    var range = h("input", { type: "range", "class": "ol-param", "data-name": name, "data-opt": k.opt,
                             min: lo, max: hi, step: step, "aria-label": label + who });
    var num = h("input", { type: "text", inputmode: "decimal", autocomplete: "off", spellcheck: "false",
                           "class": "ol-num", "data-name": name, "data-opt": k.opt,
                           "aria-label": label + who + " (type a value)" });
    var read = function () { var v = Number(range.value); return log ? Math.pow(10, v) : v; };
    var tidy = function (v) { return k.integer ? Math.round(v) : Number(v.toPrecision(log ? 3 : 4)); };
    range.addEventListener("input", function (ev) { self.apply(name, k.opt, tidy(read()), ev); });
    num.addEventListener("change", function (ev) {
      var text = num.value.trim(), v = Number(text), ok = text !== "" && isFinite(v) && v >= k.min && v <= k.max &&
        (!k.integer || Number.isInteger(v)) && !(k.open && v === k.max);
      num.setAttribute("aria-invalid", ok ? "false" : "true");
      if (!ok) {
        var got = text === "" ? "nothing" : isFinite(v) && text !== "" ? text : "'" + text + "', not a number";
        self.error.textContent = label + who + " must be " + (k.integer ? "an integer " : "a number ") +
          "in [" + k.min + ", " + k.max + (k.open ? ")" : "]") + "; got " + got + ".";
        return;
      }
      self.error.textContent = "";
      self.apply(name, k.opt, v, ev);
    });
    num.addEventListener("keydown", function (ev) {
      if (ev.key !== "ArrowUp" && ev.key !== "ArrowDown") return;
      ev.preventDefault();
      var n = (ev.key === "ArrowUp" ? 1 : -1) * (ev.shiftKey ? 10 : 1), cur = self.value(name, k.opt);
      var v = log ? cur * Math.pow(10, 0.1 * n) : cur + n * (k.integer ? 1 : step);
      v = tidy(clamp(v, k.min, k.max));
      num.value = String(v);
      num.setAttribute("aria-invalid", "false");
      self.error.textContent = "";
      self.apply(name, k.opt, v, ev);
    });
    this.fields[id] = { range: range, num: num, log: log, k: k };
    return h("label", { "class": "ol-field" }, [h("span", { text: label }), range, num]);
  };

  P.value = function (name, opt) { return name === "lr" ? this.state.lrs[opt] : this.state[name]; };

  // A value from a slider or a box.  Linked learning rates keep their ratios to one another
  // (taken when the link was made) and each stays within its slider's range; one held at a limit
  // says so in its row.
  P.apply = function (name, opt, v, ev) {
    if (name !== "lr") { var patch = {}; patch[name] = v; this.set(patch, ev); return; }
    var st = this.state, lrs = Object.assign({}, st.lrs), lim = this.spec.limits.lr, held = {};
    if (st.linked) {
      var base = this.linkBase || (this.linkBase = Object.assign({}, st.lrs)), m = v / base[opt];
      Object.keys(lrs).forEach(function (k) {
        var want = Number((base[k] * m).toPrecision(6));
        lrs[k] = clamp(want, lim[0], lim[1]);
        if (lrs[k] !== want) held[k] = lrs[k];
      });
    }
    lrs[opt] = v;
    delete held[opt];
    this.set({ lrs: lrs }, ev, false, held);
  };

  // ---------------------------------------------------------------- state changes
  var RECOMPUTE = { surface: 1, active: 1, lrs: 1, beta1: 1, beta2: 1, eps: 1, weight_decay: 1, steps: 1, start: 1,
                    idx: 1, extra: 1 };

  // Apply a patch of state; from the page (ev given) it is reported to onChange (the widget).
  P.set = function (patch, ev, fromModel, held) {
    var st = this.state, recompute = false, wasEnd = st.step >= this.T();
    if ("lrs" in patch || "linked" in patch) {
      this.held = held || {};  // learning rates a linked change held at their slider's limit
      if (!held) this.linkBase = null;  // not a linked change: the ratios are taken anew
    }
    var t0 = ev && ev.timeStamp !== undefined ? ev.timeStamp : root.performance.now();
    var more = this.recomputeKeys || {};  // a view's own controls (network_view.js)
    Object.keys(patch).forEach(function (k) {
      if (k === "extra") return;
      st[k] = patch[k];
      if (RECOMPUTE[k] || more[k]) recompute = true;
    });
    if ("extra" in patch) { this.extra = patch.extra || {}; recompute = true; }
    if ("steps" in patch || "surface" in patch || "start" in patch || "lrs" in patch || "idx" in patch) {
      if (wasEnd || st.step > this.T()) st.step = this.T();
    }
    if ("playing" in patch) {
      if (patch.playing && !this.playing) this.play(!!ev); else if (!patch.playing) this.pause(true);
    }
    if (recompute) this.compute();
    this.syncControls();
    this.draw(t0);
    if (!fromModel && this.onChange) {
      var out = {};
      Object.keys(patch).forEach(function (k) { out[k] = st[k]; });
      if ("step" in st && !("step" in out) && recompute) out.step = st.step;
      this.queue(out);
    }
  };

  // Changes for the widget's model, sent at most every 50 ms while dragging.
  P.queue = function (out) {
    var self = this;
    this.pendingOut = Object.assign(this.pendingOut || {}, out);
    if (this.outTimer) return;
    this.outTimer = setTimeout(function () { self.flush(); }, 50);
  };
  P.flush = function () {
    if (this.outTimer) { clearTimeout(this.outTimer); this.outTimer = null; }
    if (this.pendingOut && this.onChange) this.onChange(this.pendingOut);
    this.pendingOut = null;
  };

  P.toggle = function (label, ev) {
    this.hidden[label] = !this.hidden[label];
    this.compute();
    this.syncControls();
    this.draw(ev ? ev.timeStamp : undefined);
  };

  P.reset = function (ev) {
    this.pause();
    this.hidden = {};
    this.set(this.resetPatch(), ev);
  };

  P.isOn = function (label) { return !this.hidden[label]; };

  // Make every control show the state.
  P.syncControls = function () {
    var st = this.state, self = this;
    var held = this.held || {};
    Object.keys(this.rows).forEach(function (label) {
      var r = self.rows[label], on = self.isOn(label);
      r.btn.setAttribute("aria-pressed", on ? "true" : "false");
      r.row.classList.toggle("ol-off", !on);
      r.held.textContent = label in held ? "η held at " + fmt(held[label]) + ", the end of its slider: the " +
        "linked rates no longer keep their ratios" : "";
    });
    this.titleEl.textContent = this.title();
    Object.keys(this.fields).forEach(function (id) {
      var f = self.fields[id];
      if (f.sync) { f.sync(); return; }
      var v = self.value(f.k.name, f.k.opt);
      if (v === undefined) return;
      f.range.value = String(f.log ? Math.log10(v) : v);
      if (doc.activeElement !== f.num) { f.num.value = String(v); f.num.setAttribute("aria-invalid", "false"); }
    });
    if (this.stepInput) { this.stepInput.max = String(this.T()); this.stepInput.value = String(st.step); }
  };

  // ---------------------------------------------------------------- play
  P.togglePlay = function (user) { if (this.playing) this.pause(); else this.play(user); };

  P.play = function (user) {
    var self = this, T = this.T();
    if (!this.playBtn) return;
    if (!user && reduceMotion()) { this.set({ step: T }); return; }  // no animation nobody asked for
    if (this.state.step >= T) this.state.step = 0;
    this.playing = true;
    this.playBtn.textContent = "❚❚ Pause";
    this.playBtn.setAttribute("aria-label", "Pause");
    var rate = Math.max(15, T / 6), last = null, acc = this.state.step;
    this.frames = 0;
    function frame(now) {
      if (!self.playing) return;
      if (last !== null) acc = Math.min(T, acc + (now - last) / 1000 * rate);
      last = now;
      var k = Math.floor(acc);
      if (k !== self.state.step) { self.state.step = k; self.syncTime(); self.draw(now); self.frames++; }
      if (k >= T) { self.pause(); return; }
      self.raf = root.requestAnimationFrame(frame);
    }
    this.raf = root.requestAnimationFrame(frame);
  };

  P.pause = function (fromModel) {
    if (!this.playing) return;
    this.playing = false;
    if (this.raf) root.cancelAnimationFrame(this.raf);
    this.playBtn.textContent = "▶ Play";
    this.playBtn.setAttribute("aria-label", "Play");
    this.syncControls();
    if (!fromModel && this.onChange) this.queue({ step: this.state.step });
  };

  P.syncTime = function () {
    if (this.stepInput) this.stepInput.value = String(this.state.step);
  };

  // ---------------------------------------------------------------- layout and drawing
  P.relayout = function (t0) {
    if (this.projector) this.fit();
    var width = this.layoutCharts();
    this.draw(t0);
    this.el.setAttribute("data-width", String(width));  // the width this layout was made for
    if (this.projector) this.el.setAttribute("data-fit", root.innerWidth + "x" + root.innerHeight);
    if (!this.ready) { this.ready = true; this.el.setAttribute("data-ready", "1"); }
  };

  // The charts; the last one carries the legend (the loss panel, when there is one).
  P.legendChart = function () { var c = this.charts(); return c[c.length - 1]; };

  // Size the canvases: below the controls for the page's width, or (projector mode) filling the
  // figure's place on the screen.  Returns the width laid out for.
  P.layoutCharts = function () {
    var k = (parseFloat(root.getComputedStyle(this.el).fontSize) || BASE_PX) / BASE_PX;
    this.charts().forEach(function (c) { c.k = k; });
    if (!this.projector) return this.layoutFigure();
    var cs = root.getComputedStyle(this.figure);
    return this.layoutFigure(Math.max(1, Math.floor(parseFloat(cs.width))), Math.max(120, Math.floor(parseFloat(cs.height))));
  };

  // The charts' drawing (on canvases, or on SVG recorders for an export).
  P.paint = function () {
    this.drawCharts();
    var c = this.legendChart();
    c.entries = this.legendEntries();
    c.drawLegend();
  };

  P.draw = function (t0) {
    this.paint();
    var st = this.state;
    if (this.stepOut) this.stepOut.textContent = this.stepText();
    this.el.setAttribute("data-step", String(st.step));
    this.drawn();
    this.timing.draws++;
    if (t0 !== undefined && root.requestAnimationFrame) {
      // Input event → the frame that shows it: read when the next frame has been produced.
      var self = this;
      root.requestAnimationFrame(function () {
        setTimeout(function () { self.timing.last = root.performance.now() - t0; self.timing.n++; }, 0);
      });
    }
  };

  // ---------------------------------------------------------------- copy as code
  P.copy = function () {
    var text = this.code(), btn = this.copyBtn;
    function done(ok) { btn.textContent = ok ? "Copied ✓" : "Select and copy the text above"; }
    if (root.navigator && navigator.clipboard && root.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(fallback(text)); });
    } else done(fallback(text));
    function fallback(t) {
      var ta = h("textarea", { style: "position:fixed;opacity:0" });
      ta.value = t; doc.body.appendChild(ta); ta.select();
      var ok = false;
      try { ok = doc.execCommand("copy"); } catch (e) { ok = false; }
      doc.body.removeChild(ta);
      return ok;
    }
  };

  // ---------------------------------------------------------------- projector mode and export
  function fullscreenElement() { return doc.fullscreenElement || doc.webkitFullscreenElement || null; }

  // The head's buttons: save the view as PNG or SVG; projector mode.
  P.tools = function () {
    var self = this;
    function button(cls, text, label, act) {
      var b = h("button", { type: "button", "class": cls, text: text, "aria-label": label });
      b.addEventListener("click", act);
      return b;
    }
    this.fullBtn = button("ol-full", "Full screen", "Full screen (projector mode)", function () {
      self.setProjector(!self.projector);
    });
    return h("span", { "class": "ol-tools", role: "group", "aria-label": "save or project the figure" }, [
      button("ol-save-png", "Save PNG", "Save PNG of this view", function () { self.save("png"); }),
      button("ol-save-svg", "Save SVG", "Save SVG of this view", function () { self.save("svg"); }),
      this.fullBtn]);
  };

  // Esc leaves projector mode; so does the browser leaving full screen (its own Esc, or F11).
  P.wireProjector = function () {
    var el = this.el, self = this;
    el.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape" && self.projector) { ev.preventDefault(); self.setProjector(false); }
    });
    this.onFullscreen = function () {
      if (self.projector && self.fullscreen && fullscreenElement() !== el) self.setProjector(false);
      else if (!self.projector && !fullscreenElement()) self.scrollBackNow();
    };
    doc.addEventListener("fullscreenchange", this.onFullscreen);
    doc.addEventListener("webkitfullscreenchange", this.onFullscreen);
  };

  // Projector mode: the explorer alone on the screen (full screen when the browser allows it, else
  // over the whole window), figure and controls laid out to fit it, every size scaled with it.
  P.setProjector = function (on) {
    var el = this.el, self = this;
    if (!!on === !!this.projector) return;
    this.projector = !!on;
    el.classList.toggle("ol-projector", this.projector);
    el.setAttribute("data-projector", on ? "1" : "0");
    this.fullBtn.textContent = on ? "✕ Leave full screen" : "Full screen";
    this.fullBtn.setAttribute("aria-label", on ? "Leave full screen (Esc)" : "Full screen (projector mode)");
    if (on) {
      // The page behind keeps its height (the explorer leaves its flow) and its scroll position.
      this.scrollBack = [root.scrollX, root.scrollY];
      this.placeholder = h("div", { "class": "ol-placeholder", style: "height:" + el.offsetHeight + "px" });
      el.parentNode.insertBefore(this.placeholder, el);
      var req = el.requestFullscreen || el.webkitRequestFullscreen;
      this.fullscreen = false;
      if (req && !fullscreenElement()) {
        try {
          var p = req.call(el);
          this.fullscreen = true;
          if (p && p.catch) p.catch(function () { self.fullscreen = false; });  // stays over the window
        } catch (e) { this.fullscreen = false; }
      }
    } else {
      el.removeAttribute("data-fit");
      el.style.removeProperty("--ol-fit");
      if (fullscreenElement() === el) (doc.exitFullscreen || doc.webkitExitFullscreen).call(doc);
      this.fullscreen = false;
      if (this.placeholder && this.placeholder.parentNode) this.placeholder.parentNode.removeChild(this.placeholder);
      this.placeholder = null;
    }
    this.relayout();
    if (!on) this.scrollBackNow();
  };

  // Back where the page was before projector mode (again once the browser has left full screen).
  P.scrollBackNow = function () {
    if (this.scrollBack) root.scrollTo(this.scrollBack[0], this.scrollBack[1]);
  };

  // Projector mode: the largest text (a factor --ol-fit ≤ 1 of the base size) with which every
  // control fits the screen beside a figure of at least 40 % of its height.
  P.fit = function () {
    var el = this.el, side = this.side, fig = this.figure, f = 1;
    function over() {
      return el.scrollHeight > el.clientHeight + 1 || el.scrollWidth > el.clientWidth + 1 ||
        side.scrollHeight > side.clientHeight + 1 || side.scrollWidth > side.clientWidth + 1 ||
        fig.clientHeight < 0.4 * el.clientHeight;
    }
    el.style.setProperty("--ol-fit", "1");
    for (var i = 0; i < 14 && over(); i++) {
      f *= 0.93;
      el.style.setProperty("--ol-fit", f.toFixed(3));
    }
  };

  // Where each chart sits in the figure (CSS px, from the figure's top left).
  P.placement = function () {
    var charts = this.charts(), boxes = charts.map(function (c) {
      var b = c.canvas.getBoundingClientRect();
      return { c: c, x: b.left, y: b.top, w: c.w, h: c.h };
    });
    var x0 = Math.min.apply(null, boxes.map(function (b) { return b.x; }));
    var y0 = Math.min.apply(null, boxes.map(function (b) { return b.y; }));
    boxes.forEach(function (b) { b.x = Math.round(b.x - x0); b.y = Math.round(b.y - y0); });
    return { boxes: boxes, w: Math.max.apply(null, boxes.map(function (b) { return b.x + b.w; })),
             h: Math.max.apply(null, boxes.map(function (b) { return b.y + b.h; })) };
  };

  // The caption under the figure, on context c, in one line (smaller type when it is long).
  function drawCaption(c, text, W, y, k) {
    var px = 13 * k;
    c.font = font(px);
    while (px > 8 && c.measureText(text).width > W - 16 * k) { px *= 0.94; c.font = font(px); }
    c.fillStyle = "#1d1d1f"; c.textAlign = "left"; c.textBaseline = "middle";
    c.fillText(text, 8 * k, y);
  }

  // The view as SVG (text): every chart drawn again by the same code onto SVG recorders.
  P.svg = function () {
    var self = this, pl = this.placement(), k = this.charts()[0].k, capH = Math.ceil(26 * k);
    var measure = doc.createElement("canvas").getContext("2d"), real = [], groups = [];
    pl.boxes.forEach(function (b) { real.push(b.c.ctx); b.c.ctx = new SvgContext(measure); });
    try { this.paint(); } finally {
      pl.boxes.forEach(function (b, i) {
        groups.push('<g class="' + b.c.canvas.getAttribute("class") + '" transform="translate(' + b.x + " " + b.y + ')">' +
                    b.c.ctx.out.join("") + "</g>");
        b.c.ctx = real[i];
      });
    }
    var cap = new SvgContext(measure);
    drawCaption(cap, this.caption(), pl.w, pl.h + capH / 2, k);
    var W = pl.w, H = pl.h + capH;
    return '<svg xmlns="http://www.w3.org/2000/svg" width="' + W + '" height="' + H + '" viewBox="0 0 ' + W + " " + H +
      '" font-family="' + esc(FAMILY) + '"><rect width="' + W + '" height="' + H + '" fill="#fff"/>' + groups.join("") +
      '<g class="ol-caption">' + cap.out.join("") + "</g></svg>";
  };

  // The view as a PNG (a canvas), drawn at twice the CSS size at least (sharp on a slide).
  P.png = function () {
    var charts = this.charts(), s = Math.max(2, root.devicePixelRatio || 1), k = charts[0].k, capH = Math.ceil(26 * k);
    charts.forEach(function (c) { c.dprOverride = s; });
    this.layoutCharts(); this.paint();
    var pl = this.placement(), out = doc.createElement("canvas");
    out.width = Math.round(pl.w * s); out.height = Math.round((pl.h + capH) * s);
    var c = out.getContext("2d");
    c.fillStyle = "#fff"; c.fillRect(0, 0, out.width, out.height);
    pl.boxes.forEach(function (b) { c.drawImage(b.c.canvas, Math.round(b.x * s), Math.round(b.y * s)); });
    c.setTransform(s, 0, 0, s, 0, 0);
    drawCaption(c, this.caption(), pl.w, pl.h + capH / 2, k);
    charts.forEach(function (c2) { c2.dprOverride = 0; });
    this.layoutCharts(); this.paint();
    return out;
  };

  // A file name for this view: optimlab-<surface or title>.<ext>.
  P.fileName = function (ext) {
    var name = this.figureName();
    return "optimlab-" + (name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "") || "figure") + "." + ext;
  };

  // Save PNG / Save SVG: a download, made in the page (no kernel, no network).
  P.save = function (ext) {
    var self = this, name = this.fileName(ext);
    function download(blob) {
      var url = root.URL.createObjectURL(blob), a = h("a", { href: url, download: name, style: "display:none" });
      (self.el).appendChild(a);
      a.click();
      self.el.removeChild(a);
      setTimeout(function () { root.URL.revokeObjectURL(url); }, 60000);
      self.said.textContent = "Saved " + name;
    }
    if (ext === "svg") download(new root.Blob([this.svg()], { type: "image/svg+xml" }));
    else this.png().toBlob(download, "image/png");
  };

  // ---------------------------------------------------------------- hooks for tests

  // The legend's entries where they are drawn, in the window's coordinates (CSS px).
  P.legendBoxes = function () {
    var c = this.legendChart(), b = c.canvas.getBoundingClientRect();
    return ((c.legend || {}).places || []).map(function (p) {
      return { label: p.e.label, color: p.e.color, left: b.left + p.x, right: b.left + p.x + p.w,
               top: b.top + p.y - p.h / 2, bottom: b.top + p.y + p.h / 2 };
    });
  };

  P.snapshot = function () {
    var self = this, out = { step: this.state.step, runs: {} };
    (this.runs || []).forEach(function (r) {
      if (!self.isOn(r.label)) return;
      out.runs[r.label] = { xs: Array.from(r.xs.subarray ? r.xs.subarray(0, 2 * (r.end + 1)) : r.xs),
                            div: r.div, end: r.end, python: !!r.python };
    });
    out.state = JSON.parse(JSON.stringify(this.state));
    return out;
  };

  P.destroy = function () {
    this.pause(true);
    if (this.ro) this.ro.disconnect();
    doc.removeEventListener("fullscreenchange", this.onFullscreen);
    doc.removeEventListener("webkitfullscreenchange", this.onFullscreen);
    if (this.outTimer) clearTimeout(this.outTimer);
  };

  // ------------------------------------------------------------------ LiveExplorer
  // Optimizers run in the page (live race, network view): toggles set state.active, rows carry
  // a learning rate, the knobs shown are those of the optimizers on.
  var LiveExplorer = view(Explorer, []), L = LiveExplorer.prototype;
  L.live = true;

  L.init = function (given) {
    var spec = this.spec;
    this.initial = JSON.parse(JSON.stringify(spec.state || {}));
    this.state = Object.assign(JSON.parse(JSON.stringify(spec.state)), given || {});
    this.extra = spec.extra || {};
  };

  L.rowField = function (o) {
    if (o.python) return null;
    return this.field({ name: "lr", label: "η", opt: o.label, log: true,
                        min: this.spec.limits.lr[0], max: this.spec.limits.lr[1] });
  };

  L.toggle = function (label, ev) {
    if (label in this.extra) { P.toggle.call(this, label, ev); return; }
    var active = this.state.active.slice(), i = active.indexOf(label);
    if (i >= 0) active.splice(i, 1); else active.push(label);
    var order = this.spec.optimizers.map(function (o) { return o.label; });
    active.sort(function (a, b) { return order.indexOf(a) - order.indexOf(b); });
    this.set({ active: active }, ev);
  };

  L.isOn = function (label) {
    if (label in this.extra) return P.isOn.call(this, label);
    return this.state.active.indexOf(label) >= 0;
  };

  L.resetPatch = function () { return JSON.parse(JSON.stringify(this.initial)); };

  L.syncControls = function () {
    P.syncControls.call(this);
    var st = this.state, self = this, knobsUsed = {};
    if (this.linkBox) this.linkBox.checked = !!st.linked;
    if (this.codeBox) this.codeBox.textContent = this.code();
    this.spec.optimizers.forEach(function (o) {
      if (st.active.indexOf(o.label) >= 0) Object.keys(o.bind || {}).forEach(function (k) { knobsUsed[k] = 1; });
    });
    (this.spec.knobs || []).forEach(function (k) {
      var f = self.fields[k.name];
      if (f) f.range.parentNode.style.display = knobsUsed[k.name] ? "" : "none";  // only what acts
    });
  };

  L.linkField = function () {
    var self = this;
    this.linkBox = h("input", { type: "checkbox", "class": "ol-link", "aria-label": "link the learning rates" });
    this.linkBox.addEventListener("change", function (ev) { self.set({ linked: self.linkBox.checked }, ev); });
    return h("label", { "class": "ol-field", style: "flex:0 1 auto" },
      [this.linkBox, h("span", { text: "link learning rates" })]);
  };

  L.codeDetails = function () {
    var self = this;
    this.codeBox = h("pre", {});
    this.copyBtn = h("button", { type: "button", "class": "ol-copy", text: "Copy",
                                 "aria-label": "Copy this setting as optimlab code" });
    this.copyBtn.addEventListener("click", function () { self.copy(); });
    return h("details", { "class": "ol-code" }, [
      h("summary", { text: "This setting as optimlab code " }), this.codeBox, this.copyBtn]);
  };

  // The hyperparameters of optimizer o under the current knobs and learning rates.
  L.hp = function (o) {
    var hp = JSON.parse(JSON.stringify(o.hp)), st = this.state;
    hp.lr = st.lrs[o.label];
    Object.keys(o.bind || {}).forEach(function (knob) {
      var path = o.bind[knob].split(".");
      if (path.length === 2) hp[path[0]][+path[1]] = st[knob]; else hp[path[0]] = st[knob];
    });
    return hp;
  };

  // `optimizers = {...}`: every active optimizer as the optimlab rule that computes it.
  L.optimizersCode = function () {
    var st = this.state, spec = this.spec, self = this, lines = ["optimizers = {"];
    spec.optimizers.forEach(function (o) {
      if (st.active.indexOf(o.label) < 0) return;
      lines.push("    " + JSON.stringify(o.label) + ": " + self.entryCode(o) + ",");
    });
    lines.push("}");
    return lines;
  };

  L.entryCode = function (o) { return this.ruleCode(o.rule, this.hp(o)); };

  // For a caption: each optimizer on, "label η … knob …" (the knobs it is bound to).
  L.optimizerSettings = function () {
    var st = this.state, spec = this.spec, self = this, parts = [], knobs = {};
    (spec.knobs || []).forEach(function (k) { knobs[k.name] = k.label.split(" (")[0]; });
    spec.optimizers.forEach(function (o) {
      if (!self.isOn(o.label)) return;
      parts.push([o.label, "η " + fmt(st.lrs[o.label])].concat(Object.keys(o.bind || {}).map(function (k) {
        return (knobs[k] || k) + " " + fmt(st[k]);
      })).join(" "));
    });
    return parts;
  };

  // `ol.Rule(...)` with the hyperparameters that differ from the rule's defaults (and lr); whole-
  // number ones (spec.integers) as Python ints, every other number as a float.
  L.ruleCode = function (rule, hp) {
    var defaults = this.spec.defaults[rule], ints = this.spec.integers[rule] || [], args = [];
    Object.keys(hp).forEach(function (k) {
      if (k !== "lr" && JSON.stringify(hp[k]) === JSON.stringify(defaults[k])) return;
      args.push(k + "=" + (ints.indexOf(k) >= 0 ? String(hp[k]) : py(hp[k])));
    });
    return "ol." + rule + "(" + args.join(", ") + ")";
  };

  // ------------------------------------------------------------------ race (a mixin)
  // The map and the loss panel of both races; a race supplies surface(), start(), computeRuns()
  // and settings() (for the caption).
  var race = {};
  // What the loss panel shows: the loss itself when the minimum is 0 or unknown, else f − f*.
  race.word = function () {
    var f = this.surface().fmin;
    return f === null || f === undefined || f === 0 ? "loss" : "f − f*";
  };

  race.figureName = function () { return this.surface().name; };

  race.mapAttributes = function (a) { return a; };

  race.compute = function () {
    var self = this;
    this.runs = this.computeRuns();
    this.lossRange = lossLimits(this.runs.filter(function (r) { return !self.hidden[r.label]; }),
                                this.style.loss_floor);
  };

  race.buildFigure = function (fig) {
    var spec = this.spec;
    this.mapCanvas = h("canvas", this.mapAttributes({ "class": "ol-map", role: "img",
      "aria-label": "Contour plot of the surface with the optimizers' paths" }));
    fig.appendChild(this.mapCanvas);
    this.map = new Chart(this.mapCanvas, { margin: { l: 50, r: 10, t: 8, b: 42 }, equal: true });
    if (spec.loss_panel) {
      this.lossCanvas = h("canvas", { "class": "ol-loss", role: "img",
        "aria-label": "Loss against the step, log scale" });
      fig.appendChild(this.lossCanvas);
      this.loss = new Chart(this.lossCanvas, { margin: { l: 60, r: 14, t: 8, b: 42 } });
    }
    this.readout = h("div", { "class": "ol-readout", "aria-live": "off" });
    this.el.appendChild(this.readout);
    this.wireMap();
  };

  // The readout under the map: where pixel p is.
  race.hover = function (p) {
    if (!this.map.inside(p[0], p[1])) return;
    var d = this.map.inv(p[0], p[1]), names = this.surface().axes || ["x", "y"];
    this.readout.textContent = names[0] + " = " + fmt(d[0]) + ", " + names[1] + " = " + fmt(d[1]) + this.readoutMore(d);
  };
  race.readoutMore = function () { return ""; };

  race.at = function (ev) {
    var b = this.mapCanvas.getBoundingClientRect();
    return [ev.clientX - b.left, ev.clientY - b.top];
  };

  race.wireMap = function () {
    var self = this, cv = this.mapCanvas;
    cv.addEventListener("pointermove", function (ev) { self.hover(self.at(ev)); });
    cv.addEventListener("pointerleave", function () { self.readout.textContent = ""; });
  };

  race.charts = function () { return [this.map, this.loss].filter(Boolean); };

  race.layoutFigure = function (W, H) {
    var mapW, mapH, side = false, L;
    if (this.projector) {
      var P = this.loss ? projectorLayout(W, H, this.map, this.surface().window) : null;
      side = P ? P.side : false;
      mapW = P ? P.map : W;
      mapH = P ? P.mapH : H;
    } else {
      L = raceLayout(contentWidth(this.figure), root.innerHeight || 800, !!this.loss);
      W = L.width; side = L.side; mapW = L.map; mapH = L.maxH;
    }
    var w = this.surface().window;
    var mh = this.map.layout(mapW, mapH, w[0], w[1]);
    if (this.loss) {
      var lh = side ? mh : this.projector ? H - mh - GAP : L.lossH;
      this.loss.layout(side ? W - GAP - mapW : W, lh, [0, this.T()], this.lossRange, false, true);
    }
    return W;
  };

  // The legend on the figure: every run shown, with its colour (and dash).
  race.legendEntries = function () {
    var self = this;
    return (this.runs || []).filter(function (r) { return self.isOn(r.label); }).map(function (r) {
      return { label: r.label + (r.python ? " (Python)" : ""), color: r.color, dash: r.python ? [6, 4] : null };
    });
  };

  race.stepText = function () { return "step " + this.state.step + " / " + this.T(); };

  race.drawCharts = function () {
    var self = this, map = this.map, st = this.state, sp = this.surface(), k = st.step;
    if (!map.rect) return;
    map.clear();
    this.bg.draw(map);
    map.clip(true);
    sp.minima.forEach(function (m) { map.marker(m[0], m[1], "star", self.style.minimum, 9); });
    this.runs.forEach(function (r) {
      if (!self.isOn(r.label)) return;
      var e = Math.min(k, r.end);
      map.line(function (i) { return [r.xs[2 * i], r.xs[2 * i + 1]]; }, e + 1, r.color, 2.4, r.python ? [6, 4] : null, r.label);
      if (e < 400) map.dots(function (i) { return [r.xs[2 * i], r.xs[2 * i + 1]]; }, e + 1, r.color, 2.1);
    });
    map.clip(false);
    var start = this.start();
    map.marker(start[0], start[1], "start", "#000", 5.5);
    this.runs.forEach(function (r) {
      if (!self.isOn(r.label)) return;
      var e = Math.min(k, r.end), gone = r.div >= 0 && k >= r.div;
      map.marker(r.xs[2 * e], r.xs[2 * e + 1], gone ? "cross" : "head", r.color, gone ? 7 : 6);
    });
    map.axes((sp.axes || [])[0], (sp.axes || [])[1], false);
    if (this.loss) {
      var loss = this.loss;
      loss.xr = [0, this.T()];
      loss.yr = this.lossRange;
      loss.clear();
      loss.axes("step", this.word(), true);
      loss.clip(true);
      this.runs.forEach(function (r) {
        if (!self.isOn(r.label)) return;
        var e = Math.min(k, r.gap.length - 1);
        loss.line(function (i) { return [i, r.gap[i]]; }, e + 1, r.color, 2.2, r.python ? [6, 4] : null, r.label);
      });
      loss.clip(false);
      var top = Math.pow(10, this.lossRange[1]) / 1.5;
      this.runs.forEach(function (r) {
        if (!self.isOn(r.label)) return;
        var e = Math.min(k, r.gap.length - 1), gone = r.div >= 0 && k >= r.div;
        loss.marker(e, Math.min(r.gap[e], gone ? top : Infinity), gone ? "cross" : "head", r.color, gone ? 6 : 4.5);
      });
    }
    this.status();
  };

  race.status = function () {
    var self = this, k = this.state.step, word = this.word(), floor = this.style.loss_floor;
    this.runs.forEach(function (r) {
      var row = self.rows[r.label];
      if (!row) return;
      var msg;
      if (r.div >= 0 && k >= r.div) msg = "✗ diverged at step " + r.div;
      else {
        var f = r.gap[Math.min(k, r.gap.length - 1)];
        msg = word + " " + (f <= floor * 1.0001 ? "< " + fmt(floor) : fmt(f)) + " at step " + k;
      }
      row.status.textContent = msg;
    });
  };

  // One line of the settings shown: surface, start, each optimizer's η and knobs, steps.
  race.caption = function () {
    var st = this.state, start = this.start();
    var parts = [this.surface().name, "start (" + fmt(start[0]) + ", " + fmt(start[1]) + ")"].concat(this.settings());
    parts.push(this.T() + " steps" + (st.step < this.T() ? ", shown at step " + st.step : ""));
    return parts.join(" · ");
  };

  race.toPixel = function (x, y) {
    var b = this.mapCanvas.getBoundingClientRect();
    return [b.left + this.map.fx(x), b.top + this.map.fy(y)];
  };

  // ------------------------------------------------------------------ indexed (a mixin)
  // Replay race and lines: stored rows, one per combination of the sliders (state.idx).
  var indexed = {};
  indexed.startState = function () {
    return { step: this.spec.T, idx: this.spec.sliders.map(function (s) { return s.init; }) };
  };
  indexed.resetPatch = function () { return this.startState(); };

  indexed.combo = function () {
    var c = 0, sl = this.spec.sliders, idx = this.state.idx;
    for (var i = 0; i < sl.length; i++) c = c * sl[i].values.length + idx[i];
    return c;
  };

  indexed.optionEntries = function () {
    return this.series.map(function (d) { return { label: d.s.label, color: d.s.color, dash: d.s.dash }; });
  };

  indexed.buildSliders = function (row) {
    var self = this;
    this.spec.sliders.forEach(function (s, i) { row.appendChild(self.indexSlider(s, i)); });
  };

  indexed.indexSlider = function (s, i) {
    var self = this;
    var range = h("input", { type: "range", "class": "ol-param", "data-name": s.name, min: 0,
                             max: s.values.length - 1, step: 1, value: s.init, "aria-label": s.label });
    var out = h("output", { text: s.text[s.init] });
    range.addEventListener("input", function (ev) {
      var idx = self.state.idx.slice();
      idx[i] = clamp(parseInt(range.value, 10) || 0, 0, s.values.length - 1);
      self.set({ idx: idx }, ev);
    });
    this.fields[s.name] = { range: range, out: out, sync: function () {
      range.value = String(self.state.idx[i]);
      out.textContent = s.text[self.state.idx[i]];
    } };
    return h("label", { "class": "ol-field" }, [h("span", { text: s.label }), range, out]);
  };

  indexed.settings = function () {
    var idx = this.state.idx;
    return this.spec.sliders.map(function (sl, i) { return sl.label + " " + sl.text[idx[i]]; });
  };

  indexed.drawn = function () { this.el.setAttribute("data-combo", String(this.combo())); };

  var LONG_PRESS = 400, SLOP = 10;  // ms a finger rests before it drags the start; px it may wander
  // Arrow keys on the focused map: the start moves by 1 % of the window (Shift: 10 %).
  var KEY_MOVES = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };

  // ------------------------------------------------------------------ LiveRace
  var LiveRace = view(LiveExplorer, [race]), LR = LiveRace.prototype;
  LR.T = function () { return this.state.steps; };
  LR.surface = function () { return this.spec.surfaces[this.state.surface]; };
  LR.start = function () { return this.state.start; };

  // The title: the chapter's, and the surface's name once the reader has chosen another surface.
  LR.title = function () {
    var st = this.state;
    return st.surface !== this.initial.surface ? this.surface().name : this.spec.title || "";
  };

  LR.buildHead = function (head) {
    var self = this, surfaces = this.spec.surfaces, sel = h("select", { "class": "ol-surface", "aria-label": "surface" });
    Object.keys(surfaces).forEach(function (k) {
      sel.appendChild(h("option", { value: k, text: surfaces[k].name }));
    });
    sel.addEventListener("change", function (ev) {
      var k = sel.value;
      self.set({ surface: k, start: surfaces[k].start.slice() }, ev);
    });
    head.appendChild(h("label", { "class": "ol-field", style: "flex:0 1 auto" }, [h("span", { text: "surface" }), sel]));
    this.surfaceSelect = sel;
  };

  LR.mapAttributes = function (a) {
    a.role = "application"; a.tabindex = "0"; a["aria-roledescription"] = "start point map";
    a["aria-label"] += "; arrow keys move the start point (Shift: larger steps); click, tap or drag to set it";
    return a;
  };

  LR.optionEntries = function () {
    var self = this, entries = this.spec.optimizers.slice();
    Object.keys(this.extra).forEach(function (k) {
      entries.push({ label: k, color: self.extra[k].color, python: true });
    });
    return entries;
  };

  LR.buildSliders = function (knobs) {
    var spec = this.spec, self = this;
    knobs.appendChild(this.linkField());
    (spec.knobs || []).forEach(function (k) { knobs.appendChild(self.field(k)); });
    knobs.appendChild(this.field({ name: "steps", label: "steps", min: spec.limits.steps[0],
                                   max: spec.limits.steps[1], step: 1, integer: true }));
  };

  LR.buildNotes = function (side) {
    side.appendChild(this.codeDetails());
    if (Object.keys(this.extra).length) {
      side.appendChild(h("div", { "class": "ol-note", text: "Runs marked (Python) were computed by " +
        "the notebook's kernel; they follow the controls only in a live notebook." }));
    }
  };

  LR.syncControls = function () {
    LiveExplorer.prototype.syncControls.call(this);
    var st = this.state;
    this.surfaceSelect.value = st.surface;
    if (st.start) this.el.setAttribute("data-start", st.start[0] + "," + st.start[1]);
  };

  LR.computeRuns = function () {
    var spec = this.spec, self = this, sp = this.surface(), w = sp.window, runs = [];
    var shift = sp.fmin !== null && sp.fmin !== undefined ? sp.fmin : 0;
    var st = this.state, E = root.optimlabEngine;
    if (!this.S || this.Skey !== st.surface) {
      this.S = E.surface(sp); this.Skey = st.surface;
      this.bg = new Background(surfaceGrid(this.S, sp, GRID, this.style.contour_levels), this.style);
    }
    spec.optimizers.forEach(function (o) {
      if (st.active.indexOf(o.label) < 0) return;
      var r = E.run({ rule: o.rule, hp: self.hp(o) }, self.S, st.start, st.steps, 1e6);
      runs.push(self.shape(o.label, o.color, r.xs, r.losses, r.divergedAt, shift, w));
    });
    Object.keys(this.extra).forEach(function (label) {
      var e = self.extra[label];
      if (!e || e.surface !== st.surface) return;
      runs.push(self.shape(label, e.color, Float64Array.from(e.xs), Float64Array.from(e.losses), e.div, shift, w, true));
    });
    return runs;
  };

  LR.shape = function (label, color, xs, losses, div, shift, w, python) {
    var n = losses.length, cut = displayEnd(xs, n, div, w), end = cut.end;
    if (cut.exit) { xs = xs.slice(0, 2 * (end + 1)); xs[2 * end] = cut.exit[0]; xs[2 * end + 1] = cut.exit[1]; }
    var lf = Math.max(div >= 0 ? div - 1 : n - 1, 0), gap = new Float64Array(lf + 1);
    for (var i = 0; i <= lf; i++) gap[i] = Math.max(losses[i] - shift, this.style.loss_floor);
    return { label: label, color: color, xs: xs, end: end, div: div, gap: gap, python: !!python };
  };

  // The map: a mouse or pen sets the start where it presses and drags it.  A finger scrolls the
  // page (touch-action), sets the start where it taps, and drags it after a long press (the
  // explorer's data-touch-drag is "1" then).
  LR.wireMap = function () {
    var self = this, cv = this.mapCanvas, el = this.el, dragging = false, touch = null;
    function point(ev) {
      var p = self.at(ev), w = self.surface().window, d = self.map.inv(p[0], p[1]);
      return [clamp(d[0], w[0][0], w[0][1]), clamp(d[1], w[1][0], w[1][1])];
    }
    function startDrag(ev) {
      dragging = true;
      self.pause();
      self.set({ start: point(ev) }, ev);
    }
    function endTouch() {
      if (touch) clearTimeout(touch.timer);
      touch = null;
      el.removeAttribute("data-touch-drag");
    }
    cv.addEventListener("pointerdown", function (ev) {
      if (ev.button !== 0) return;
      var p = self.at(ev);
      if (!self.map.inside(p[0], p[1])) return;
      if (ev.pointerType === "touch") {
        endTouch();
        touch = { x: ev.clientX, y: ev.clientY, down: ev };
        touch.timer = setTimeout(function () {
          el.setAttribute("data-touch-drag", "1");
          startDrag(touch.down);
        }, LONG_PRESS);
        return;
      }
      try { cv.setPointerCapture(ev.pointerId); } catch (e) { /* synthetic events */ }
      startDrag(ev);
    });
    cv.addEventListener("pointermove", function (ev) {
      if (dragging) { self.set({ start: point(ev) }, ev); return; }
      if (touch) {
        if (Math.abs(ev.clientX - touch.x) + Math.abs(ev.clientY - touch.y) > SLOP) endTouch();  // a swipe
        return;
      }
      self.hover(self.at(ev));
    });
    // Once a long press has begun a drag, the finger's moves drag the start instead of scrolling.
    cv.addEventListener("touchmove", function (ev) { if (dragging) ev.preventDefault(); }, { passive: false });
    cv.addEventListener("contextmenu", function (ev) { if (touch || dragging) ev.preventDefault(); });
    cv.addEventListener("pointerup", function (ev) {
      if (touch && !dragging) self.set({ start: point(ev) }, ev);  // a tap
      endTouch();
      if (!dragging) return;
      dragging = false;
      self.flush();
    });
    cv.addEventListener("pointercancel", function () {  // the page scrolls: the finger was swiping
      endTouch();
      if (dragging) { dragging = false; self.flush(); }
    });
    cv.addEventListener("pointerleave", function () { if (!dragging) self.readout.textContent = ""; });
    cv.addEventListener("keydown", function (ev) {
      var d = KEY_MOVES[ev.key];
      if (!d) return;
      ev.preventDefault();
      var w = self.surface().window, f = ev.shiftKey ? 0.1 : 0.01, s = self.state.start, p = [];
      for (var k = 0; k < 2; k++) {
        p.push(clamp(Number((s[k] + d[k] * f * (w[k][1] - w[k][0])).toPrecision(12)), w[k][0], w[k][1]));
      }
      self.pause();
      self.set({ start: p }, ev);
      self.announce();
    });
  };

  LR.readoutMore = function (d) {
    return (this.S ? ", f = " + fmt(this.S.f(d[0], d[1])) : "") + "   (click or drag to start here)";
  };

  // For screen readers: where the start is now and how each optimizer ends.
  LR.announce = function () {
    var st = this.state, names = this.surface().axes || ["x", "y"], self = this;
    var parts = ["start " + names[0] + " = " + fmt(st.start[0]) + ", " + names[1] + " = " + fmt(st.start[1])];
    Object.keys(this.rows).forEach(function (l) {
      if (self.isOn(l)) parts.push(l + ": " + self.rows[l].status.textContent);
    });
    this.said.textContent = parts.join("; ");
  };

  LR.settings = function () {
    var self = this, parts = this.optimizerSettings();
    Object.keys(this.extra).forEach(function (l) { if (self.isOn(l)) parts.push(l + " (Python)"); });
    return parts;
  };

  LR.code = function () {
    var st = this.state, sp = this.surface();
    var lines = ["import optimlab as ol", "", "surface = " + sp.code].concat(this.optimizersCode());
    lines.push("runs = {label: ol.run(opt, surface, (" + py(st.start[0]) + ", " + py(st.start[1]) +
               "), steps=" + st.steps + ") for label, opt in optimizers.items()}");
    return lines.join("\n");
  };

  // ------------------------------------------------------------------ ReplayRace
  var ReplayRace = view(Explorer, [race, indexed]), RR = ReplayRace.prototype;
  RR.init = function () {
    var spec = this.spec;
    this.state = this.startState();
    this.series = spec.series.map(function (s) {
      return { s: s, X: decode(s.x), Y: decode(s.y), F: decode(s.f) };
    });
    this.grid = spec.grid;
  };

  RR.surface = function () { return this.spec.surface; };
  RR.start = function () { return this.spec.start; };

  RR.buildNotes = function (side) {
    side.appendChild(h("div", { "class": "ol-note", text: "Precomputed runs: the sliders switch " +
      "between them." }));
  };

  RR.computeRuns = function () {
    var spec = this.spec, c = this.combo(), runs = [];
    if (!this.bg) this.bg = new Background(this.decodedGrid(), this.style);
    this.series.forEach(function (d) {
      var s = d.s, r = s.m ? s.m[c] : c, end = s.end[r], div = s.div[r], n = end + 1;
      var xs = new Float64Array(2 * n);
      for (var i = 0; i < n; i++) { xs[2 * i] = d.X[s.px[r] + i]; xs[2 * i + 1] = d.Y[s.px[r] + i]; }
      var lf = Math.max(div >= 0 ? div - 1 : spec.T, 0);
      var gap = d.F.subarray(s.pf[r], s.pf[r] + lf + 1);
      runs.push({ label: s.label, color: s.color, xs: xs, end: end, div: div, gap: gap });
    });
    return runs;
  };

  RR.decodedGrid = function () {
    var g = this.grid;
    return { nx: g.nx, ny: g.ny, z: decode(g.z), levels: g.levels, window: this.spec.surface.window };
  };

  // ------------------------------------------------------------------ LinesView
  var DASHES = { dash: [7, 5], dot: [2, 4], dashdot: [7, 4, 2, 4] };

  var LinesView = view(Explorer, [indexed]), LV = LinesView.prototype;
  LV.togglesLabel = "curves shown";
  LV.rowsShown = false;

  LV.init = function () {
    var spec = this.spec;
    this.state = this.startState();
    this.X = Float64Array.from(spec.x);
    this.series = spec.series.map(function (s) { return { s: s, Y: decode(s.y) }; });
  };

  LV.resettable = function () { return this.spec.sliders.length > 0; };

  LV.buildFigure = function (fig) {
    var spec = this.spec;
    this.lineCanvas = h("canvas", { "class": "ol-lines", role: "img", "aria-label": spec.title || "curves" });
    fig.appendChild(this.lineCanvas);
    this.chart = new Chart(this.lineCanvas, { margin: { l: 64, r: 14, t: 10, b: 44 } });
  };

  LV.charts = function () { return [this.chart]; };

  LV.layoutFigure = function (W, H) {
    var spec = this.spec;
    W = W || raceLayout(contentWidth(this.figure), root.innerHeight || 800, false).width;
    this.chart.layout(W, H || spec.height || 380, spec.xrange, spec.yrange, spec.logx, spec.logy);
    return W;
  };

  LV.rowStart = function (d, combo) { return d.s.fixed ? 0 : (d.s.m ? d.s.m[combo] : combo) * (this.spec.T + 1); };

  LV.drawCharts = function () {
    var c = this.chart, spec = this.spec, self = this, st = this.state, X = this.X;
    var T = spec.T + 1, e = spec.animate ? st.step : spec.T, combo = this.combo();
    c.clear();
    c.axes(spec.xlabel, spec.ylabel, true);
    c.clip(true);
    this.series.forEach(function (d) {
      if (self.hidden[d.s.label]) return;
      var base = self.rowStart(d, combo), n = d.s.fixed ? T : e + 1;
      c.line(function (i) { return [X[i], d.Y[base + i]]; }, n, d.s.color, d.s.fixed ? 1.8 : 2.4, DASHES[d.s.dash], d.s.label);
    });
    c.clip(false);
  };

  LV.legendEntries = function () {
    var self = this;
    return this.series.filter(function (d) { return !self.hidden[d.s.label]; }).map(function (d) {
      return { label: d.s.label, color: d.s.color, dash: DASHES[d.s.dash] || null };
    });
  };

  LV.stepText = function () { return (this.spec.stepword || "x") + " = " + fmt(this.X[this.state.step]); };

  LV.caption = function () {
    var spec = this.spec, parts = [];
    if (spec.title) parts.push(spec.title);
    parts = parts.concat(this.settings());
    if (spec.animate) parts.push(this.stepText());
    return parts.join(" · ");
  };

  LV.snapshot = function () {
    var self = this, out = P.snapshot.call(this), combo = this.combo(), T = this.spec.T + 1;
    this.series.forEach(function (d) {
      if (self.hidden[d.s.label]) return;
      var base = self.rowStart(d, combo);
      out.runs[d.s.label] = { y: Array.from(d.Y.subarray(base, base + T)) };
    });
    return out;
  };

  // ------------------------------------------------------------------ mounting
  function fail(el, message) {
    var fb = el.querySelector(".ol-fallback");
    if (fb) fb.textContent = message; else el.appendChild(h("div", { "class": "ol-fallback", text: message }));
  }

  // ------------------------------------------------------------------ the spec contract
  // The spec versions this script reads (optimlab.explorers.SPEC_VERSION; the fields are listed in
  // optimlab/explorers.py's docstring).  Anything else is refused, visibly, rather than misdrawn.
  var SPEC_VERSIONS = [4];

  // Why this script cannot draw `spec` ("" when it can).
  function specProblem(spec) {
    if (!spec || typeof spec !== "object") return "its data is not a spec object";
    if (SPEC_VERSIONS.indexOf(spec.v) < 0) {
      return "its data has spec version " + JSON.stringify(spec.v) + " but this explorer.js reads " +
        "version " + SPEC_VERSIONS.join(", ") + " (the page and optimlab differ: rebuild the page, or " +
        "re-run the cell)";
    }
    if (spec.kind !== "race" && spec.kind !== "lines" && spec.kind !== "network") {
      return "unknown figure kind " + JSON.stringify(spec.kind);
    }
    if (spec.kind === "race" && !(spec.style && spec.style.contour)) return "its data has no style";
    return "";
  }

  // The explorer for `spec` in `el`, or null (with a message in the figure and on the console) for
  // a spec this script does not read.
  function create(el, spec, opts) {
    el.classList.add("optimlab-explorer");
    if (spec && spec.kind && !el.hasAttribute("data-kind")) el.setAttribute("data-kind", spec.kind);  // (a widget's element)
    var problem = specProblem(spec);
    if (problem) {
      fail(el, "Interactive figure: " + problem + ".");
      el.setAttribute("data-error", "spec");
      if (root.console) root.console.error("optimlab explorer: " + problem, spec);
      return null;
    }
    // In JupyterLab the keys belong to the explorer's controls, not to the notebook's shortcuts.
    el.setAttribute("data-lm-suppress-shortcuts", "true");
    var ex;
    if (spec.kind === "network") {  // its own view (network_view.js), built on this controller
      if (!root.optimlabNetworkView) throw new Error("network_view.js is not loaded");
      ex = root.optimlabNetworkView.create(el, spec, opts, api);
    } else {
      var View = spec.kind === "lines" ? LinesView : spec.live ? LiveRace : ReplayRace;
      ex = new View(el, spec, opts);
    }
    el.__ol = ex;
    return ex;
  }

  function mount(el) {
    if (!el || el.__ol || el.__olMounting) return;
    var data = el.querySelector("script.optimlab-explorer-data");
    if (!data) return;
    el.__olMounting = true;
    var spec;
    try { spec = JSON.parse(data.textContent); } catch (err) {
      fail(el, "Interactive figure: its data could not be read.");
      return;
    }
    (function go() {
      if (!el.isConnected) { setTimeout(go, 50); return; }
      try { create(el, spec); } catch (err) {
        fail(el, "Interactive figure: it could not be drawn (" + err + ").");
      }
    })();
  }

  function mountAll() {
    var els = doc.querySelectorAll(".optimlab-explorer");
    for (var i = 0; i < els.length; i++) mount(els[i]);
  }

  // The pure parts are exported for the tests under node (tests/test_explorer_js.py).
  var api = { version: 4, SPEC_VERSIONS: SPEC_VERSIONS, create: create, mount: mount, mountAll: mountAll,
              specProblem: specProblem, decode: decode, displayEnd: displayEnd, lossLimits: lossLimits,
              surfaceGrid: surfaceGrid, percentile: percentile, linTicks: linTicks, ticksFor: ticksFor,
              raceLayout: raceLayout, SIDE_BY_SIDE: SIDE_BY_SIDE, Explorer: Explorer,
              LiveExplorer: LiveExplorer,
              parts: { h: h, Chart: Chart, fmt: fmt, py: py, clamp: clamp, contentWidth: contentWidth,
                       GAP: GAP, BASE_PX: BASE_PX, reduceMotion: reduceMotion, Background: Background } };
  root.optimlabExplorer = api;
  if (typeof module === "object" && module.exports) module.exports = api;

  if (doc) {
    if (doc.readyState === "loading") doc.addEventListener("DOMContentLoaded", mountAll);
    else mountAll();
  }
})(typeof globalThis !== "undefined" ? globalThis : this);
