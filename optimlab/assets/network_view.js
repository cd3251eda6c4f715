/*
 * optimlab network view: the explorer of kind "network" (optimlab.explorers.network).
 *
 * The chapter's MLP is trained on the digits in the page, one Web Worker per optimizer, by
 * network.js (ol.nets.train's twin; the rules are engine.js's): the curves grow as epochs finish,
 * and a change of any control stops the runs under way and starts the new ones.  The view is built
 * on explorer.js's controller (its controls, linked learning rates, typed values refused with the
 * parameter and its range, toggles, reset, copy-as-code, widget sync): explorer.js calls
 * create(el, spec, opts, api) for a spec of kind "network" and this file overrides only what
 * differs — the controls' layout, computing (the workers), drawing and the code.
 *
 * Test hooks (besides explorer.js's): data-kind="network"; data-ready="1" once drawn;
 * data-done="1" when every run has finished its epochs, "0" while training; input.ol-param /
 * input.ol-num with data-name lr (data-opt), beta1, beta2, eps, weight_decay, batch_size, epochs,
 * seed, hidden, warmup, clip; select.ol-select with data-name schedule, scaling, inside (the
 * optimizer whose weights and mistakes are shown); input.ol-check[data-name=clipping];
 * button.ol-play and input.ol-step (the epoch shown); el.__ol.snapshot() → {state, done, runs:
 * {label: {train_loss (per step), train_loss_epoch, test_loss, test_accuracy (per epoch, row 0
 * before training), diverged_at, done, misclassified (per epoch, how many)}}, view: {epoch (the
 * slider's; null: the latest), optimizer, shown (the epoch drawn), weights (its first layer,
 * hidden × 64, row by row), misclassified ([test image, label, predicted] …)}, plane: null (no
 * spec.plane) or {applies (the setting is the plane's), note (the panel's caption), runs: {label:
 * {a, b (per epoch, on the plane), captured}}}}; canvas.ol-plane (the loss plane's picture);
 * el.__ol.timing: firstEpoch (input event → the first new epoch point painted, ms), race (input
 * → every run done, ms).
 */
(function (root) {
  "use strict";
  var View = null;  // built on first use, from explorer.js's controller

  // The run's integer controls: name → label and whether the slider is logarithmic.
  var SETTINGS = [["batch_size", "batch size", true], ["epochs", "epochs", false],
                  ["seed", "seed", false], ["hidden", "hidden units", true]];
  var SMOOTH = 0.9;  // the mini-batch loss is drawn as its bias-corrected EMA (β = 0.9)
  var DRAW_EVERY = 250;  // ms between redraws while training (a redraw costs the page ~10 ms)
  var STATUS_EVERY = 500;  // ms between updates of the status lines while training (a text
                           // change lays the explorer out again)
  var PLAY_RATE = 4;  // epochs per second when playing
  var WRONG_SHOWN = 48;  // misclassified digits drawn at most
  var POS = [178, 24, 43], NEG = [33, 102, 172];  // weight colours: positive red, negative blue

  function build(api) {
    var parts = api.parts, h = parts.h, Chart = parts.Chart, fmt = parts.fmt;
    var Base = api.LiveExplorer.prototype;

    function NetworkView(el, spec, opts) {
      opts = opts || {};
      this.el = el;
      this.spec = spec;
      this.onChange = opts.onChange || null;
      this.live = true;
      this.kind = "network";
      this.timing = { last: null, n: 0, draws: 0, firstEpoch: null, race: null };
      this.hidden = {};
      this.extra = {};
      this.initial = JSON.parse(JSON.stringify(spec.state));
      this.state = Object.assign(JSON.parse(JSON.stringify(spec.state)), opts.state || {});
      this.recomputeKeys = { batch_size: 1, epochs: 1, seed: 1, hidden: 1, schedule: 1, warmup: 1, clipping: 1,
                             clip: 1, scaling: 1 };
      this.view = { epoch: null, opt: null };
      this.workers = {};
      this.runId = 0;
      this.build();
      this.compute();
      this.relayout();
    }
    var P = NetworkView.prototype = Object.create(Base);
    P.constructor = NetworkView;

    P.build = function () {
      var el = this.el, spec = this.spec, self = this;
      el.textContent = "";
      el.classList.add("ol-mounted");
      el.classList.add("ol-network");
      // What changes while training (curves, status lines) is laid out inside the explorer: the
      // page around it is not laid out again on every redraw.
      el.style.contain = "layout style";
      this.fields = {};
      this.rows = {};
      this.titleEl = h("span", { "class": "ol-title", text: spec.title || "" });
      var reset = h("button", { type: "button", "class": "ol-reset", text: "↺ Reset",
                                "aria-label": "Reset to the chapter's setting" });
      reset.addEventListener("click", function (ev) { self.reset(ev); });
      el.appendChild(h("div", { "class": "ol-head" }, [this.titleEl, reset, this.tools()]));
      this.said = h("div", { "class": "ol-sr", "aria-live": "polite" });  // for screen readers
      el.appendChild(this.said);
      this.figure = h("div", { "class": "ol-figure" });
      this.lossCanvas = h("canvas", { "class": "ol-loss", role: "img",
        "aria-label": "Training loss against the epoch, log scale: mini-batch loss per step (thin) and on the whole training set per epoch (dots)" });
      this.accCanvas = h("canvas", { "class": "ol-acc", role: "img", "aria-label": "Test accuracy against the epoch" });
      this.figure.appendChild(this.lossCanvas);
      this.figure.appendChild(this.accCanvas);
      el.appendChild(this.figure);
      this.lossChart = new Chart(this.lossCanvas, { margin: { l: 60, r: 14, t: 8, b: 42 } });
      this.accChart = new Chart(this.accCanvas, { margin: { l: 60, r: 14, t: 8, b: 42 } });
      // The epoch shown (Play, or the slider): marked on the curves, and the chosen optimizer's
      // first-layer weights and misclassified test digits at that epoch.
      this.playBtn = h("button", { type: "button", "class": "ol-play", "aria-label": "Play the epochs", text: "▶ Play" });
      this.stepInput = h("input", { type: "range", "class": "ol-step", min: 0, max: this.state.epochs, step: 1,
                                    value: this.state.epochs, "aria-label": "epoch shown" });
      this.stepOut = h("output", {});
      this.playBtn.addEventListener("click", function () { self.togglePlay(); });
      this.stepInput.addEventListener("input", function () {
        self.pause();
        self.showEpoch(parseInt(self.stepInput.value, 10) || 0);
      });
      var timeRow = h("div", { "class": "ol-row ol-time" }, [this.playBtn, this.stepInput, this.stepOut]);
      this.insideSelect = h("select", { "class": "ol-select", "data-name": "inside",
                                        "aria-label": "optimizer whose weights and mistakes are shown" });
      this.insideSelect.addEventListener("change", function () {
        self.view.opt = self.insideSelect.value;
        self.insideNow = true;
        self.draw();
      });
      this.weightCanvas = h("canvas", { "class": "ol-weights", role: "img" });
      this.wrongCanvas = h("canvas", { "class": "ol-wrong", role: "img" });
      // (room for their longest text, so that a new epoch's caption does not move the page)
      this.weightCaption = h("div", { "class": "ol-note ol-wcap" });
      this.wrongCaption = h("div", { "class": "ol-note ol-mcap" });
      var box = "flex:1 1 300px;min-width:0;display:flex;flex-direction:column;gap:4px";
      this.inside = h("div", { "class": "ol-inside", style: "display:flex;flex-wrap:wrap;gap:8px 16px;width:100%" }, [
        h("div", { style: box }, [h("label", { "class": "ol-field", style: "flex:0 1 auto" },
          [h("span", { text: "inside the network of" }), this.insideSelect]), this.weightCanvas, this.weightCaption]),
        h("div", { style: box }, [this.wrongCanvas, this.wrongCaption])]);
      this.progress = h("div", { "class": "ol-readout", "aria-live": "polite" });
      el.appendChild(this.progress);
      el.appendChild(timeRow);
      el.appendChild(this.inside);
      // The controls below the figure; in projector mode, a column beside it.
      var side = this.side = h("div", { "class": "ol-side" });
      el.appendChild(side);
      var toggles = h("div", { "class": "ol-toggles", role: "group", "aria-label": "optimizers trained" });
      var rows = h("div", { "class": "ol-opts" });
      side.appendChild(toggles);
      side.appendChild(rows);
      spec.optimizers.forEach(function (o) {
        var r = self.optionRow(o);
        toggles.appendChild(r.btn);
        rows.appendChild(r.row);
      });
      var knobs = h("div", { "class": "ol-row ol-knobs" });
      knobs.appendChild(this.linkField());
      (spec.knobs || []).forEach(function (k) { knobs.appendChild(self.field(k)); });
      side.appendChild(knobs);
      var run = h("div", { "class": "ol-row ol-knobs" });
      SETTINGS.forEach(function (s) {
        var lim = spec.limits[s[0]];
        run.appendChild(self.field({ name: s[0], label: s[1], min: lim[0], max: lim[1], step: s[2] ? 0.01 : 1,
                                     log: s[2], integer: true }));
      });
      side.appendChild(run);
      // How it trains: the schedule of η, gradient clipping, the inputs.
      var train = h("div", { "class": "ol-row ol-knobs" });
      function select(name, label, options) {
        var sel = h("select", { "class": "ol-select", "data-name": name, "aria-label": label, style: "min-width:0;max-width:100%" });
        options.forEach(function (o) { sel.appendChild(h("option", { value: o.name, text: o.label })); });
        sel.addEventListener("change", function (ev) { var p = {}; p[name] = sel.value; self.set(p, ev); });
        self.selects[name] = sel;
        return h("label", { "class": "ol-field", style: "flex:0 1 auto;max-width:100%" }, [h("span", { text: label }), sel]);
      }
      this.selects = {};
      train.appendChild(select("schedule", "η schedule", spec.schedules));
      var lw = spec.limits.warmup;
      train.appendChild(this.field({ name: "warmup", label: "warmup epochs", min: lw[0], max: lw[1], step: 1, integer: true }));
      this.clipBox = h("input", { type: "checkbox", "class": "ol-check", "data-name": "clipping",
                                  "aria-label": "clip the gradient norm" });
      this.clipBox.addEventListener("change", function (ev) { self.set({ clipping: self.clipBox.checked }, ev); });
      train.appendChild(h("label", { "class": "ol-field", style: "flex:0 1 auto" },
        [this.clipBox, h("span", { text: "clip ‖g‖" })]));
      var lc = spec.limits.clip;
      train.appendChild(this.field({ name: "clip", label: "clip norm", min: lc[0], max: lc[1], log: true }));
      train.appendChild(select("scaling", "inputs", spec.scalings));
      side.appendChild(train);
      this.error = h("div", { "class": "ol-error", role: "alert" });
      side.appendChild(this.error);
      if ((spec.python_only || []).length) {
        side.appendChild(h("div", { "class": "ol-note ol-python-only", text: "Not trained in the page (Python only, " +
          "ol.nets.train): " + spec.python_only.map(function (p) { return p.label + " — " + p.note; }).join("; ") + "." }));
      }
      side.appendChild(this.codeDetails());
      el.addEventListener("keydown", function (ev) { ev.stopPropagation(); });
      this.wireProjector();
      // Space plays and pauses when the focus is on the epoch slider or a chart.
      el.addEventListener("keydown", function (ev) {
        var t = ev.target, tag = (t.tagName || "").toLowerCase();
        if ((ev.key === " " || ev.code === "Space") && (t === self.stepInput || tag === "canvas")) {
          ev.preventDefault();
          self.togglePlay();
        }
      });
      this.buildPlane();
      this.watchSize();
      this.syncControls();
    };

    P.T = function () { return this.state.epochs; };

    // The run's settings as network.js takes them (see ol.nets.train's lr_schedule and clip).
    P.perEpoch = function () {
      var n = this.spec.data.n_train;
      return Math.ceil(n / Math.min(this.state.batch_size, n));
    };
    P.schedule = function () {
      var st = this.state, per = this.perEpoch();
      if (st.schedule === "constant") return null;
      return { total: st.epochs * per, warmup: st.schedule === "warmup_cosine" ? st.warmup * per : 0 };
    };
    P.scaling = function () {
      var name = this.state.scaling;
      return this.spec.scalings.filter(function (s) { return s.name === name; })[0];
    };

    P.syncControls = function () {
      Base.syncControls.call(this);
      var st = this.state, self = this;
      Object.keys(this.selects || {}).forEach(function (k) { self.selects[k].value = st[k]; });
      if (this.clipBox) this.clipBox.checked = !!st.clipping;
      // Only what acts is shown: the warmup with its schedule, the norm while clipping.
      if (this.fields.warmup) this.fields.warmup.range.parentNode.style.display = st.schedule === "warmup_cosine" ? "" : "none";
      if (this.fields.clip) this.fields.clip.range.parentNode.style.display = st.clipping ? "" : "none";
      if (this.view.epoch !== null && this.view.epoch > st.epochs) this.view.epoch = st.epochs;  // fewer epochs now
      if (this.stepInput) {  // (explorer.js sets it from state.step, which a network explorer has not)
        this.stepInput.max = String(st.epochs);
        this.stepInput.value = String(this.view.epoch === null ? st.epochs : Math.min(this.view.epoch, st.epochs));
      }
      if (this.insideSelect) {
        var labels = st.active.slice(), cur = this.insideOpt();
        if (this.insideSelect.getAttribute("data-for") !== labels.join("\n")) {
          this.insideSelect.textContent = "";
          labels.forEach(function (l) { self.insideSelect.appendChild(h("option", { value: l, text: l })); });
          this.insideSelect.setAttribute("data-for", labels.join("\n"));
        }
        if (cur) this.insideSelect.value = cur;
      }
    };

    // ---------------------------------------------------------------- the epoch shown
    // The optimizer whose inside is shown: the reader's choice while it is on, else Adam, else the first on.
    P.insideOpt = function () {
      var on = this.state.active;
      if (this.view.opt && on.indexOf(this.view.opt) >= 0) return this.view.opt;
      return on.indexOf("Adam") >= 0 ? "Adam" : on[0] || null;
    };

    P.showEpoch = function (e) {
      this.view.epoch = Math.max(0, Math.min(this.state.epochs, e));
      this.insideNow = true;
      this.draw();
    };

    P.togglePlay = function () { if (this.playing) this.pause(); else this.play(); };

    // Play: the epochs one after another (from 0, or from the one shown), PLAY_RATE a second,
    // waiting for epochs still training.
    P.play = function () {
      var self = this, E = this.state.epochs, at = this.view.epoch;
      if (at === null || at >= E) at = 0;
      this.view.epoch = at;
      this.insideNow = true;
      this.playing = true;
      this.playBtn.textContent = "❚❚ Pause";
      this.playBtn.setAttribute("aria-label", "Pause");
      var last = null, acc = at;
      function frame(now) {
        if (!self.playing) return;
        var run = self.insideRun(), have = run ? run.test_accuracy.length - 1 : E;
        if (last !== null) acc = Math.min(acc + (now - last) / 1000 * PLAY_RATE, Math.max(have, 0) + 0.999);
        last = now;
        var k = Math.min(E, Math.floor(acc));
        if (k !== self.view.epoch) { self.view.epoch = k; self.insideNow = true; self.draw(); }
        if (k >= E) { self.pause(); return; }
        self.playRaf = root.requestAnimationFrame(frame);
      }
      this.draw();
      this.playRaf = root.requestAnimationFrame(frame);
    };

    P.pause = function () {
      if (!this.playing) return;
      this.playing = false;
      if (this.playRaf) root.cancelAnimationFrame(this.playRaf);
      this.playBtn.textContent = "▶ Play";
      this.playBtn.setAttribute("aria-label", "Play the epochs");
    };

    P.insideRun = function () {
      var label = this.insideOpt();
      return (this.runs || []).filter(function (r) { return r.label === label; })[0] || null;
    };

    // The epoch drawn: the one asked for (the latest while none is), or the latest trained.
    P.shownEpoch = function (run) {
      var have = run ? run.test_accuracy.length - 1 : -1, want = this.view.epoch === null ? this.state.epochs : this.view.epoch;
      return Math.min(want, have);
    };

    // The test images as the page carries them (pixel counts, one byte each), decoded once.
    P.testImages = function () {
      if (!this.images) {
        var d = this.spec.data, bin = root.atob(d.X), off = d.n_train * d.features, n = d.n_test * d.features;
        var out = new Uint8Array(n);
        for (var i = 0; i < n; i++) out[i] = bin.charCodeAt(off + i);
        var yb = root.atob(d.y), y = new Uint8Array(d.n_test);
        for (i = 0; i < d.n_test; i++) y[i] = yb.charCodeAt(d.n_train + i);
        this.images = { X: out, y: y };
      }
      return this.images;
    };

    // A canvas of w × hgt CSS px, cleared (its size, and so the page's layout, touched only on a change).
    function sized(canvas, w, hgt) {
      var dpr = root.devicePixelRatio || 1, c = canvas.getContext("2d");
      if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(hgt * dpr)) {
        canvas.width = Math.round(w * dpr);
        canvas.height = Math.round(hgt * dpr);
        canvas.style.width = w + "px";
        canvas.style.height = hgt + "px";
      }
      c.setTransform(dpr, 0, 0, dpr, 0, 0);
      c.clearRect(0, 0, w, hgt);
      c.imageSmoothingEnabled = false;
      return c;
    }

    // Images of R × C pixels, one per row of `rgba(i, k)` (i the image, k its pixel: [r, g, b]),
    // drawn at `px` CSS px per pixel from one ImageData (thousands of fillRects cost a long task).
    function mosaic(c, n, R, C, px, cols, cellW, cellH, rgba) {
      var rows = Math.ceil(n / cols), W = cols * cellW, H = rows * cellH;
      var tmp = doc().createElement("canvas");
      tmp.width = W; tmp.height = H;
      var t = tmp.getContext("2d"), im = t.createImageData(W, H), a = im.data;
      for (var i = 0; i < n; i++) {
        var x0 = (i % cols) * cellW, y0 = Math.floor(i / cols) * cellH;
        for (var k = 0; k < R * C; k++) {
          var col = rgba(i, k), o = 4 * ((y0 + Math.floor(k / C)) * W + x0 + (k % C));
          a[o] = col[0]; a[o + 1] = col[1]; a[o + 2] = col[2]; a[o + 3] = 255;
        }
      }
      t.putImageData(im, 0, 0);
      c.drawImage(tmp, 0, 0, W, H, 0, 0, W * px, H * px);
    }
    function doc() { return root.document; }

    // The chosen optimizer's first-layer weights (one image per hidden unit, each scaled by its
    // largest |w|: red positive, blue negative) and the test digits it misclassifies, at the epoch shown.
    P.drawInside = function () {
      if (!this.weightCanvas) return;
      var run = this.insideRun(), e = this.shownEpoch(run), d = this.spec.data, img = d.image;
      var avail = Math.max(120, Math.floor(parts.contentWidth(this.figure) || 640));
      var side = avail >= api.SIDE_BY_SIDE, W = side ? Math.floor((avail - 16) / 2) : avail;
      steady(this.stepOut, ["epoch ", [String(this.view.epoch === null ? this.state.epochs : this.view.epoch),
                                       String(this.state.epochs).length], " / " + this.state.epochs]);
      this.stepInput.value = String(this.view.epoch === null ? this.state.epochs : this.view.epoch);
      if (!img) return;
      // Sizes that depend only on the width and the setting, not on the epoch: the page is not
      // laid out again as the epochs arrive (a long task on a long chapter).
      // In projector mode each of the two fits a sixth of the screen's height (smaller pixels,
      // fewer mistakes shown), so that the curves keep most of it.
      var budget = this.projector ? Math.max(48, Math.floor(0.16 * this.el.clientHeight)) : Infinity;
      var R = img[0], C = img[1], units = this.state.hidden, px = 5, cols, rows;
      do {
        px--;
        cols = Math.max(1, Math.min(units, Math.floor((W + px) / ((C + 1) * px))));
        rows = Math.ceil(units / cols);
      } while (px > 1 && rows * (R + 1) * px > budget);
      var q = 4, cw, ch;
      do { q--; cw = C * q + 14; ch = R * q + 18; } while (q > 1 && ch > budget);
      var wc = Math.max(1, Math.floor(W / cw)), most = Math.min(WRONG_SHOWN, wc * Math.max(1, Math.floor(budget / ch)));
      var wr = Math.ceil(most / wc);
      var key = [run && run.label, e, this.view.epoch, W, units, this.runId, budget].join(" ");
      if (key === this.insideKey) return;  // nothing new to draw
      this.insideKey = key;
      var c = sized(this.weightCanvas, cols * (C + 1) * px - px, rows * (R + 1) * px - px);
      var c2 = sized(this.wrongCanvas, Math.min(W, wc * cw), wr * ch);
      if (!run || e < 0) {
        steady(this.weightCaption, [run ? "Training…" : "No optimizer on."]);
        steady(this.wrongCaption, []);
        return;
      }
      var ed = String(this.state.epochs).length;
      var W1 = run.W1[e], bigs = [], k;
      for (var u = 0; u < units; u++) {
        var big = 0;
        for (k = 0; k < R * C; k++) big = Math.max(big, Math.abs(W1[u * R * C + k]));
        bigs.push(big);
      }
      c.fillStyle = "#fff";  // the gaps between the images (left transparent by mosaic)
      c.fillRect(0, 0, cols * (C + 1) * px, rows * (R + 1) * px);
      mosaic(c, units, R, C, px, cols, C + 1, R + 1, function (i, k) {
        var v = bigs[i] > 0 ? W1[i * R * C + k] / bigs[i] : 0, col = v >= 0 ? POS : NEG, a = Math.abs(v);
        return [Math.round(255 + (col[0] - 255) * a), Math.round(255 + (col[1] - 255) * a), Math.round(255 + (col[2] - 255) * a)];
      });
      var late = this.view.epoch !== null && e < this.view.epoch ? " (epoch " + this.view.epoch + " is still training)" : "";
      steady(this.weightCaption, [run.label + ", epoch ", [String(e), ed], late + ": the first layer's weights, one " + R +
        "×" + C + " image per hidden unit (" + units + "; red positive, blue negative, each unit to its own largest |w|)."]);
      this.weightCanvas.setAttribute("aria-label", "First-layer weights of " + run.label + " after epoch " + e + ", " + units + " units");
      // The misclassified test digits: "label→predicted" under each.
      var wrong = run.wrong[e], n = wrong.length / 2, shown = Math.min(n, most), T = this.testImages();
      c2.font = "11px -apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Arial,sans-serif";
      c2.textAlign = "center";
      c2.textBaseline = "top";
      var tile = this.tile || (this.tile = doc().createElement("canvas")), one = c2.createImageData(C, R);
      tile.width = C; tile.height = R;
      for (var i = 0; i < shown; i++) {
        var row = wrong[2 * i], xa = (i % wc) * cw + 7, ya = Math.floor(i / wc) * ch;
        for (k = 0; k < R * C; k++) {
          var g = 255 - Math.round(255 * Math.min(1, T.X[row * R * C + k] / d.divisor));
          one.data[4 * k] = one.data[4 * k + 1] = one.data[4 * k + 2] = g;
          one.data[4 * k + 3] = 255;
        }
        tile.getContext("2d").putImageData(one, 0, 0);
        c2.drawImage(tile, xa, ya, C * q, R * q);
        c2.fillStyle = "#333";
        c2.fillText(T.y[row] + "→" + wrong[2 * i + 1], xa + C * q / 2, ya + R * q + 3);
      }
      steady(this.wrongCaption, [[String(n), String(d.n_test).length], " of " + d.n_test +
        " test digits misclassified after epoch ", [String(e), ed], "; ", [String(shown), String(most).length],
        " shown: true label → " + run.label + "'s answer."]);
      this.wrongCanvas.setAttribute("aria-label", n + " misclassified test digits after epoch " + e);
    };

    // Set an element's text only when it changes (a change lays the explorer out again).
    // Text that keeps its width while its numbers change: `parts` are words (strings) and numbers
    // ([text, n]: a box at least n characters wide), so that a line does not rewrap as a run
    // trains.  A rewrapped line changed the explorer's height and moved the rest of the chapter
    // page, which the browser then walked again (frames of about 20 ms of CPU on chapter 9, long
    // tasks on a busy machine).  The words are written once per shape, the numbers in place.
    var SHAPES = new WeakMap();
    function steady(el, parts) {
      var shape = parts.map(function (p) { return typeof p === "string" ? p : "[" + p[1] + "]"; }).join("\u0000");
      var known = SHAPES.get(el);
      if (!known || known.shape !== shape) {
        el.textContent = "";
        known = { shape: shape, boxes: [] };
        parts.forEach(function (p) {
          var span = typeof p === "string" ? h("span", { text: p })
            : h("span", { "class": "ol-fixed", style: "min-width:" + p[1] + "ch" });
          if (typeof p !== "string") known.boxes.push(span);
          el.appendChild(span);
        });
        SHAPES.set(el, known);
      }
      var i = 0;
      parts.forEach(function (p) {
        if (typeof p === "string") return;
        var box = known.boxes[i++];
        if (box.textContent !== p[0]) box.textContent = p[0];
      });
    }

    // A vertical line at the epoch shown, on a chart.
    function marker(chart, e) {
      var c = chart.ctx, r = chart.rect, x = r.x + (e - chart.xr[0]) / (chart.xr[1] - chart.xr[0]) * r.w;
      c.save();
      c.strokeStyle = "rgba(0,0,0,0.35)";
      c.setLineDash([4 * chart.k, 3 * chart.k]);
      c.lineWidth = chart.k;
      c.beginPath();
      c.moveTo(x, r.y);
      c.lineTo(x, r.y + r.h);
      c.stroke();
      c.restore();
    }

    // ---------------------------------------------------------------- training (the workers)
    var workerURL = null;
    function spawn() {
      if (!workerURL) {
        var src = root.optimlabEngine.source + root.optimlabNetwork.source + "optimlabNetwork.serve(self);\n";
        workerURL = root.URL.createObjectURL(new root.Blob([src], { type: "text/javascript" }));
      }
      return new root.Worker(workerURL);
    }

    P.stop = function () {
      var w = this.workers;
      Object.keys(w).forEach(function (k) { w[k].terminate(); });
      this.workers = {};
    };

    P.set = function (patch, ev) {
      this.lastInput = ev && ev.timeStamp !== undefined ? ev.timeStamp : root.performance.now();
      return Base.set.apply(this, arguments);
    };

    // The active optimizers' runs, shared among workers (one per core but one, which the page
    // keeps: on two cores, one worker trains every run, an epoch of each in turn).
    P.compute = function () {
      var self = this, st = this.state, spec = this.spec, id = ++this.runId, d = spec.data;
      var t0 = this.lastInput !== undefined ? this.lastInput : root.performance.now();
      this.stop();
      this.cancelDraw();
      this.firstPainted = false;
      this.el.setAttribute("data-done", "0");
      var on = spec.optimizers.filter(function (o) { return st.active.indexOf(o.label) >= 0; }), byLabel = {};
      this.runs = on.map(function (o) {
        return (byLabel[o.label] = { label: o.label, color: o.color, train_loss: [], train_loss_epoch: [],
                                     test_loss: [], test_accuracy: [], diverged_at: -1, done: false, W1: [], wrong: [], proj: [] });
      });
      var cores = (root.navigator && root.navigator.hardwareConcurrency) || 2;
      var nw = Math.max(1, Math.min(on.length, cores - 1)), groups = [];
      on.forEach(function (o, i) { (groups[i % nw] = groups[i % nw] || []).push(o); });
      groups.forEach(function (group, g) {
        var w = spawn(), left = group.length;
        self.workers[g] = w;
        w.onmessage = function (ev) {
          var m = ev.data, run = byLabel[m.key];
          if (m.id !== id) return;
          Array.prototype.push.apply(run.train_loss, m.steps);
          run.train_loss_epoch.push(m.train_loss_epoch);
          run.test_loss.push(m.test_loss);
          run.test_accuracy.push(m.test_accuracy);
          run.W1.push(m.W1);
          run.wrong.push(m.wrong);
          if (m.proj) run.proj.push(m.proj);
          run.diverged_at = m.diverged_at;
          if (m.done) {
            run.done = true;
            if (--left === 0) { w.terminate(); delete self.workers[g]; }
          }
          self.arrived(id, t0, m.epoch);
        };
        w.onerror = function (ev) { self.error.textContent = "Training failed in the page: " + (ev.message || ev); };
        w.postMessage({ id: id, data: d, scaling: self.scaling(), runs: group.map(function (o) {
          var rule = { rule: o.rule, hp: self.hp(o) };
          return { key: o.label, cfg: { sizes: [d.features, st.hidden, d.classes],
                                        // (Muon: its rule for W1, `rest` for b1, W2, b2, as ol.nets.train's list)
                                        rule: o.rest ? null : rule, rules: o.rest ? [rule, o.rest, o.rest, o.rest] : null,
                                        epochs: st.epochs, batch_size: st.batch_size, seed: st.seed, bound: 1e6,
                                        schedule: self.schedule(), clip: st.clipping ? st.clip : null,
                                        plane: self.planeApplies() ? self.planeDirs : null } };
        }) });
      });
      if (!this.runs.length) this.finish(id, t0);
    };

    // An epoch arrived: draw the first one of a run at the next frame, then at most every
    // DRAW_EVERY ms (each redraw re-lays out the explorer's status lines).
    P.arrived = function (id, t0, epoch) {
      var self = this;
      if (this.rafDraw || this.drawTimer) return;
      var wait = this.firstPainted ? Math.max(0, this.lastDraw + DRAW_EVERY - root.performance.now()) : 0;
      function frame() {
        self.drawTimer = null;
        self.rafDraw = root.requestAnimationFrame(function () {
          self.rafDraw = null;
          if (id !== self.runId) return;
          self.draw();
          self.lastDraw = root.performance.now();
          var painted = !self.firstPainted && self.runs.some(function (r) { return r.test_accuracy.length > 1; });
          if (painted) self.firstPainted = true;
          var done = self.runs.every(function (r) { return r.done; });
          setTimeout(function () {  // after the frame that shows it
            if (id !== self.runId) return;
            if (painted) self.timing.firstEpoch = root.performance.now() - t0;
            if (done) self.finish(id, t0);
          }, 0);
        });
      }
      if (wait > 0) this.drawTimer = setTimeout(frame, wait); else frame();
    };

    P.cancelDraw = function () {
      if (this.rafDraw) root.cancelAnimationFrame(this.rafDraw);
      if (this.drawTimer) clearTimeout(this.drawTimer);
      this.rafDraw = this.drawTimer = null;
    };

    P.finish = function (id, t0) {
      this.timing.race = root.performance.now() - t0;
      this.el.setAttribute("data-done", "1");
      this.draw();
    };

    // ---------------------------------------------------------------- layout and drawing
    P.relayout = function () {
      if (this.projector) { this.drawInside(); this.fit(); }  // (the inside's projector size first)
      var W = this.layoutCharts();
      this.layoutPlane(W);
      this.insideNow = true;
      this.draw();
      this.el.setAttribute("data-width", String(W));
      if (this.projector) this.el.setAttribute("data-fit", root.innerWidth + "x" + root.innerHeight);
      if (!this.ready) { this.ready = true; this.el.setAttribute("data-ready", "1"); }
    };

    P.charts = function () { return [this.lossChart, this.accChart]; };
    P.legendChart = function () { return this.lossChart; };  // (a falling loss leaves its top right free)

    // Size the two charts: side by side when the page is wide enough, else one above the other;
    // in projector mode, filling the figure's place on the screen.  Returns the width laid out for.
    P.layoutCharts = function () {
      var k = (parseFloat(root.getComputedStyle(this.el).fontSize) || parts.BASE_PX) / parts.BASE_PX, W, H, side;
      this.charts().forEach(function (c) { c.k = k; });
      if (this.projector) {
        var cs = root.getComputedStyle(this.figure);
        W = Math.max(1, Math.floor(parseFloat(cs.width)));
        var avail = Math.max(120, Math.floor(parseFloat(cs.height)));
        side = W >= 1.4 * avail || W / 2 >= api.SIDE_BY_SIDE / 2 * k;
        H = side ? avail : Math.floor((avail - parts.GAP) / 2);
      } else {
        W = Math.max(1, Math.floor(parts.contentWidth(this.figure) || 640));
        side = W >= api.SIDE_BY_SIDE;
        H = side ? 300 : 240;
      }
      var w1 = side ? Math.floor((W - parts.GAP) / 2) : W, w2 = side ? W - parts.GAP - w1 : W;
      this.lossChart.layout(w1, H, [0, 1], [-2, 1], false, true);
      this.accChart.layout(w2, H, [0, 1], [0, 100], false, false);
      return W;
    };

    P.legendEntries = function () {
      var self = this;
      return (this.runs || []).filter(function (r) { return self.isOn(r.label); })
        .map(function (r) { return { label: r.label, color: r.color, dash: null }; });
    };

    // One line of the setting shown (under a saved figure): each optimizer's η and knobs, the run.
    P.caption = function () {
      var st = this.state, spec = this.spec, d = spec.data;
      var out = ["digits, MLP " + d.features + "–" + st.hidden + "–" + d.classes].concat(this.optimizerSettings());
      var sched = spec.schedules.filter(function (x) { return x.name === st.schedule; })[0];
      out.push("batch " + st.batch_size, st.epochs + " epochs", "seed " + st.seed,
               sched.label + (st.schedule === "warmup_cosine" ? " (" + st.warmup + " warming up)" : ""),
               st.clipping ? "clip ‖g‖ ≤ " + fmt(st.clip) : "no clipping", this.scaling().label);
      if (this.view.epoch !== null) out.push("epoch " + this.view.epoch + " marked");
      return out.join(" · ");
    };

    function smoothed(xs) {
      var out = new Float64Array(xs.length), s = 0, c = 1;
      for (var i = 0; i < xs.length; i++) {
        s = SMOOTH * s + (1 - SMOOTH) * xs[i];
        c *= SMOOTH;
        out[i] = s / (1 - c);
      }
      return out;
    }

    // The charts' drawing (on canvases, or on SVG recorders for a saved figure).
    P.paint = function () {
      var self = this, E = this.state.epochs, runs = (this.runs || []).filter(function (r) { return self.isOn(r.label); });
      var lo = Infinity, hi = -Infinity, floor = this.spec.style.loss_floor;
      runs.forEach(function (r) {
        r.smooth = smoothed(r.train_loss);
        [r.smooth, r.train_loss_epoch].forEach(function (a) {
          for (var i = 0; i < a.length; i++) if (isFinite(a[i]) && a[i] > 0) { lo = Math.min(lo, a[i]); hi = Math.max(hi, a[i]); }
        });
      });
      if (!(hi > 0)) { lo = 0.01; hi = 3; }
      lo = Math.max(lo, floor);
      var L = this.lossChart, A = this.accChart;
      L.xr = [0, E]; L.yr = [Math.log10(lo) - 0.05, Math.log10(Math.max(hi, lo * 1.01)) + 0.05];
      L.clear();
      L.axes("epoch", "training loss", true);
      L.clip(true);
      runs.forEach(function (r) {
        var per = r.train_loss_epoch.length > 1 ? r.train_loss.length / (r.train_loss_epoch.length - 1) : 1;
        L.line(function (i) { return [(i + 1) / per, Math.max(r.smooth[i], floor)]; }, r.smooth.length, r.color, 1.2, null);
        L.line(function (i) { return [i, Math.max(r.train_loss_epoch[i], floor)]; }, r.train_loss_epoch.length, r.color, 2.4, null, r.label);
        L.dots(function (i) { return [i, Math.max(r.train_loss_epoch[i], floor)]; }, r.train_loss_epoch.length, r.color, 3);
      });
      L.clip(false);
      A.xr = [0, E]; A.yr = [0, 100];
      A.clear();
      A.axes("epoch", "test accuracy (%)", true);
      A.clip(true);
      runs.forEach(function (r) {
        A.line(function (i) { return [i, 100 * r.test_accuracy[i]]; }, r.test_accuracy.length, r.color, 2.4, null, r.label);
        A.dots(function (i) { return [i, 100 * r.test_accuracy[i]]; }, r.test_accuracy.length, r.color, 3);
      });
      A.clip(false);
      var shown = this.view.epoch === null ? null : this.view.epoch;
      if (shown !== null) { marker(L, shown); marker(A, shown); }
      L.entries = this.legendEntries();
      L.drawLegend();
    };

    P.draw = function () {
      if (!this.lossChart.rect) return;
      this.paint();
      var self = this, runs = (this.runs || []).filter(function (r) { return self.isOn(r.label); });
      var now = root.performance.now(), done = runs.every(function (r) { return r.done; });
      // The inside views follow the training at the status lines' pace (their captions lay the
      // explorer out again), and at once when the reader picks an epoch or an optimizer.
      if (done || this.insideNow || !(now - this.lastInside < STATUS_EVERY)) {
        this.insideNow = false;
        this.lastInside = now;
        this.drawInside();
      }
      if (done || !(now - this.lastStatus < STATUS_EVERY)) { this.status(); this.lastStatus = now; }
      this.drawPlane();
      this.timing.draws++;
    };

    P.status = function () {
      var self = this, E = this.state.epochs, busy = 0;
      (this.runs || []).forEach(function (r) {
        var row = self.rows[r.label], e = r.test_accuracy.length - 1;
        if (!r.done) busy++;
        if (!row || e < 0) return;
        var w = String(E).length;
        steady(row.status, ["test accuracy ", [(100 * r.test_accuracy[e]).toFixed(1), 5], " %, training loss ",
                            [fmt(r.train_loss_epoch[e]), 7], " after ", [e + " / " + E, 2 * w + 3], " epochs",
                            r.diverged_at >= 0 ? " (✗ diverged at step " + r.diverged_at + ": parameters past ±10⁶)" : ""]);
      });
      this.progress.textContent = busy ? "Training " + busy + " network" + (busy > 1 ? "s" : "") + " in this page…"
        : (this.runs || []).length ? "Trained in this page" + (this.timing.race ? " in " + (this.timing.race / 1000).toFixed(1) + " s" : "") + "." : "";
    };

    // ---------------------------------------------------------------- the loss plane (Li et al. 2018)
    // spec.plane (optimlab.explorers.network_plane): the training loss on the plane through the
    // chapter's setting's initial weights θ₀ spanned by d1, d2, the top two principal directions of
    // that setting's paths (ol.nets.loss_plane).  The worker projects each run's weights after every
    // epoch onto it (network.js project).  Another seed, width or input scaling has another θ₀ or
    // another loss: the panel then says so and draws nothing.  Other learning rates, betas,
    // schedules or optimizers share θ₀ and the loss: their paths are drawn, with the fraction of
    // each that the plane holds.
    P.buildPlane = function () {
      var pl = this.spec.plane;
      if (!pl) return;
      this.planeCanvas = h("canvas", { "class": "ol-plane", role: "img" });
      // (room for the longest caption, and the canvas hidden rather than removed, so that neither a
      // new epoch's caption nor another setting's note moves the page: a long task on a long chapter)
      this.planeCaption = h("div", { "class": "ol-note ol-plane-note", style: "min-height:20em" });
      this.planeBox = h("div", { "class": "ol-plane-box", style: "display:flex;flex-wrap:wrap;gap:8px 16px;width:100%;align-items:flex-start" },
        [this.planeCanvas, h("div", { style: "flex:1 1 260px;min-width:0" }, [this.planeCaption])]);
      this.inside.parentNode.insertBefore(this.planeBox, this.inside.nextSibling);
      this.planeChart = new Chart(this.planeCanvas, { margin: { l: 50, r: 10, t: 8, b: 42 }, equal: true });
      this.planeBg = new parts.Background({ nx: pl.grid.nx, ny: pl.grid.ny, z: api.decode(pl.grid.z),
                                            levels: pl.grid.levels, window: pl.window }, this.spec.style);
      this.planeDirs = { d1: api.decode(pl.d1), d2: api.decode(pl.d2) };
    };

    // Whether the runs start at the plane's θ₀ and train on its loss.
    P.planeApplies = function () {
      var s = this.spec.plane && this.spec.plane.setting, st = this.state;
      return !!s && s.seed === st.seed && s.hidden === st.hidden && s.scaling === st.scaling;
    };

    P.layoutPlane = function (W) {
      if (!this.planeChart) return;
      var pl = this.spec.plane, w = W >= api.SIDE_BY_SIDE ? Math.floor((W - parts.GAP) / 2) : W;
      this.planeChart.layout(w, Math.min(w, 420), pl.window[0], pl.window[1], false, false);
    };

    // The fraction of a run's path (so far) the plane holds: Σₑ (aₑ² + bₑ²) / Σₑ ‖θₑ − θ₀‖².
    function captured(run) {
      var inPlane = 0, all = 0;
      run.proj.forEach(function (q) { inPlane += q[0] * q[0] + q[1] * q[1]; all += q[2]; });
      return all > 0 ? inPlane / all : null;
    }

    P.planeRuns = function () {
      var self = this;
      return this.planeApplies() ? (this.runs || []).filter(function (r) { return self.isOn(r.label) && r.proj.length; }) : [];
    };

    P.drawPlane = function () {
      var C = this.planeChart;
      if (!C || !C.rect) return;
      var self = this, pl = this.spec.plane, st = this.state, set = pl.setting, runs = this.planeRuns();
      var dims = this.planeDirs.d1.length;
      if (!this.planeApplies()) {
        this.planeCanvas.style.visibility = "hidden";
        var differ = [];
        if (st.seed !== set.seed) differ.push("seed " + st.seed + " (the plane's: " + set.seed + ")");
        if (st.hidden !== set.hidden) differ.push(st.hidden + " hidden units (the plane's: " + set.hidden + ")");
        if (st.scaling !== set.scaling) differ.push("other inputs (the plane's: " + this.scalingLabel(set.scaling) + ")");
        steady(this.planeCaption, ["The loss plane is not drawn for this setting. It was computed for the chapter's setting " +
          "(seed " + set.seed + ", " + set.hidden + " hidden units, " + this.scalingLabel(set.scaling) + "); with " +
          differ.join(", ") + " the network " + (st.seed !== set.seed || st.hidden !== set.hidden ? "starts from other weights" : "") +
          (st.scaling !== set.scaling ? (st.seed !== set.seed || st.hidden !== set.hidden ? " and " : "") + "has another loss" : "") +
          ", so that picture would be wrong here. Set " + (differ.length > 1 ? "them" : "it") + " back, or ↺ Reset, to see the paths on it."]);
        this.planeCanvas.setAttribute("aria-label", "Loss plane not drawn: another setting");
        return;
      }
      this.planeCanvas.style.visibility = "";
      C.clear();
      this.planeBg.draw(C);
      C.clip(true);
      runs.forEach(function (r) {
        var get = function (i) { return [r.proj[i][0], r.proj[i][1]]; };
        C.line(get, r.proj.length, r.color, 2.2, null, r.label);
        C.dots(get, r.proj.length, r.color, 2.4);
      });
      C.clip(false);
      C.marker(0, 0, "start", "#000", 5.5);
      runs.forEach(function (r) {
        var e = Math.min(self.shownEpoch(r), r.proj.length - 1), q = r.proj[Math.max(e, 0)];
        C.marker(q[0], q[1], "head", r.color, 6);
      });
      C.axes("a (along d₁)", "b (along d₂)", false);
      // The caption follows the training at the status lines' pace (a text change lays the explorer out again).
      var now = root.performance.now(), done = runs.every(function (r) { return r.done; });
      if (!done && this.planeCaption.textContent && now - this.planeCaptionAt < STATUS_EVERY) return;
      this.planeCaptionAt = now;
      var held = [];  // (each share in a box of its widest, "100 %": the caption keeps its lines)
      runs.forEach(function (r, i) {
        var f = captured(r);
        held.push((i ? ", " : "") + r.label + " ", [f === null ? "—" : (100 * f).toFixed(0) + " %", 5]);
      });
      steady(this.planeCaption, ["The paths on a plane through the weights (Li et al. 2018): the training loss (contours, " +
        "log scale, darker higher) at θ₀ + a·d₁ + b·d₂, where θ₀ are the initial weights (○) and d₁, d₂ the two " +
        "directions that hold most of the chapter's runs (" + (100 * pl.explained).toFixed(0) + " % of them); dots: " +
        "epochs, ● the epoch shown. Of each path the plane holds "].concat(held.length ? held : ["—"], [
        " (of its squared distance from θ₀, over the epochs); the rest leaves the plane into the other " +
        (dims - 2).toLocaleString("en") + " dimensions, and the contour under a dot is the loss of the dot, " +
        "not of the network it stands for."]));
      this.planeCanvas.setAttribute("aria-label", "Training paths projected on a plane through the initial weights, " +
        "over the training loss on that plane; the plane holds " + (held.join(", ") || "nothing yet"));
    };

    P.scalingLabel = function (name) {
      return this.spec.scalings.filter(function (s) { return s.name === name; })[0].label;
    };

    P.planeSnapshot = function () {
      if (!this.spec.plane) return null;
      var runs = {};
      this.planeRuns().forEach(function (r) {
        runs[r.label] = { a: r.proj.map(function (q) { return q[0]; }), b: r.proj.map(function (q) { return q[1]; }),
                          captured: captured(r) };
      });
      return { applies: this.planeApplies(), note: this.planeCaption.textContent, runs: runs };
    };

    // ---------------------------------------------------------------- code, hooks
    P.code = function () {
      var st = this.state, d = this.spec.data, sc = this.scaling(), sched = this.schedule(), args = "";
      var head = (/\bnp\./.test(sc.code) ? ["import numpy as np"] : []).concat(["import optimlab as ol", ""]);
      var lines = head.concat(["data = " + sc.code, "net = ol.nets.MLP((" + d.features + ", " + st.hidden + ", " + d.classes + "))"])
        .concat(this.optimizersCode());
      if (sched) {
        lines.push("schedule = ol.nets.cosine_schedule(" + sched.total + (sched.warmup ? ", warmup_steps=" + sched.warmup : "") +
                   ")  # " + st.epochs + " epochs of " + this.perEpoch() + " steps" +
                   (sched.warmup ? ", " + st.warmup + " of them warming up" : ""));
        args += ", lr_schedule=schedule";
      }
      if (st.clipping) args += ", clip=" + parts.py(st.clip);
      return lines.concat(["runs = {label: ol.nets.train(opt, net, data, epochs=" + st.epochs + ", batch_size=" +
                           st.batch_size + ", seed=" + st.seed + args + ")", "        for label, opt in optimizers.items()}"]).join("\n");
    };

    // An optimizer's code: its rule, or (Muon) its list for [W1, b1, W2, b2].
    P.entryCode = function (o) {
      var code = Base.entryCode.call(this, o);
      return o.rest ? "[" + code + "] + [" + this.ruleCode(o.rest.rule, o.rest.hp) + "] * 3" : code;
    };

    P.snapshot = function () {
      var self = this, out = { state: JSON.parse(JSON.stringify(this.state)), runs: {},
                               done: this.el.getAttribute("data-done") === "1" };
      (this.runs || []).forEach(function (r) {
        if (!self.isOn(r.label)) return;
        out.runs[r.label] = { train_loss: r.train_loss.slice(), train_loss_epoch: r.train_loss_epoch.slice(),
                              test_loss: r.test_loss.slice(), test_accuracy: r.test_accuracy.slice(),
                              diverged_at: r.diverged_at, done: r.done,
                              misclassified: r.wrong.map(function (w) { return w.length / 2; }) };
      });
      var run = this.insideRun(), e = this.shownEpoch(run), T = this.testImages(), mis = [];
      if (run && e >= 0) {
        var w = run.wrong[e];
        for (var i = 0; i < w.length; i += 2) mis.push([w[i], T.y[w[i]], w[i + 1]]);
      }
      out.view = { epoch: this.view.epoch, optimizer: run ? run.label : null, shown: e,
                   weights: run && e >= 0 ? Array.from(run.W1[e]) : null, misclassified: mis };
      out.plane = this.planeSnapshot();
      return out;
    };

    P.reset = function (ev) {
      this.pause();
      this.view = { epoch: null, opt: null };
      this.insideNow = true;
      Base.reset.call(this, ev);
    };

    P.destroy = function () {
      this.pause();
      this.stop();
      this.cancelDraw();
      Base.destroy.call(this);
    };

    return NetworkView;
  }

  function create(el, spec, opts, api) {
    if (!View) View = build(api);
    return new View(el, spec, opts);
  }

  root.optimlabNetworkView = { create: create, version: 1 };
})(typeof globalThis !== "undefined" ? globalThis : this);
