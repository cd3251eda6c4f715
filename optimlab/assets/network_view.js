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
 * seed, hidden; el.__ol.snapshot() → {state, done, runs: {label: {train_loss (per step),
 * train_loss_epoch, test_loss, test_accuracy (per epoch, row 0 before training), diverged_at,
 * done}}}; el.__ol.timing: firstEpoch (input event → the first new epoch point painted, ms),
 * race (input → every run done, ms).
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

  function build(api) {
    var parts = api.parts, h = parts.h, Chart = parts.Chart, fmt = parts.fmt;
    var Base = api.Explorer.prototype;

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
      this.recomputeKeys = { batch_size: 1, epochs: 1, seed: 1, hidden: 1 };
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
      // What changes while training (curves, status lines) is laid out inside the explorer: the
      // page around it is not laid out again on every redraw.
      el.style.contain = "layout style";
      this.fields = {};
      this.rows = {};
      this.titleEl = h("span", { "class": "ol-title", text: spec.title || "" });
      var reset = h("button", { type: "button", "class": "ol-reset", text: "↺ Reset",
                                "aria-label": "Reset to the chapter's setting" });
      reset.addEventListener("click", function (ev) { self.reset(ev); });
      el.appendChild(h("div", { "class": "ol-head" }, [this.titleEl, reset]));
      this.figure = h("div", { "class": "ol-figure" });
      this.lossCanvas = h("canvas", { "class": "ol-loss", role: "img",
        "aria-label": "Training loss against the epoch, log scale: mini-batch loss per step (thin) and on the whole training set per epoch (dots)" });
      this.accCanvas = h("canvas", { "class": "ol-acc", role: "img", "aria-label": "Test accuracy against the epoch" });
      this.figure.appendChild(this.lossCanvas);
      this.figure.appendChild(this.accCanvas);
      el.appendChild(this.figure);
      this.lossChart = new Chart(this.lossCanvas, { margin: { l: 60, r: 14, t: 8, b: 42 } });
      this.accChart = new Chart(this.accCanvas, { margin: { l: 60, r: 14, t: 8, b: 42 } });
      this.progress = h("div", { "class": "ol-readout", "aria-live": "polite" });
      el.appendChild(this.progress);
      var toggles = h("div", { "class": "ol-toggles", role: "group", "aria-label": "optimizers trained" });
      var rows = h("div", { "class": "ol-opts" });
      el.appendChild(toggles);
      el.appendChild(rows);
      spec.optimizers.forEach(function (o) {
        var r = self.optionRow(o);
        toggles.appendChild(r.btn);
        rows.appendChild(r.row);
      });
      var knobs = h("div", { "class": "ol-row ol-knobs" });
      this.linkBox = h("input", { type: "checkbox", "class": "ol-link", "aria-label": "link the learning rates" });
      this.linkBox.addEventListener("change", function (ev) { self.set({ linked: self.linkBox.checked }, ev); });
      knobs.appendChild(h("label", { "class": "ol-field", style: "flex:0 1 auto" },
        [this.linkBox, h("span", { text: "link learning rates" })]));
      (spec.knobs || []).forEach(function (k) { knobs.appendChild(self.field(k)); });
      el.appendChild(knobs);
      var run = h("div", { "class": "ol-row ol-knobs" });
      SETTINGS.forEach(function (s) {
        var lim = spec.limits[s[0]];
        run.appendChild(self.field({ name: s[0], label: s[1], min: lim[0], max: lim[1], step: s[2] ? 0.01 : 1,
                                     log: s[2], integer: true }));
      });
      el.appendChild(run);
      this.error = h("div", { "class": "ol-error", role: "alert" });
      el.appendChild(this.error);
      if ((spec.python_only || []).length) {
        el.appendChild(h("div", { "class": "ol-note ol-python-only", text: "Not trained in the page (Python only, " +
          "ol.nets.train): " + spec.python_only.map(function (p) { return p.label + " — " + p.note; }).join("; ") + "." }));
      }
      this.codeBox = h("pre", {});
      this.copyBtn = h("button", { type: "button", "class": "ol-copy", text: "Copy",
                                   "aria-label": "Copy this setting as optimlab code" });
      this.copyBtn.addEventListener("click", function () { self.copy(); });
      el.appendChild(h("details", { "class": "ol-code" }, [
        h("summary", { text: "This setting as optimlab code " }), this.codeBox, this.copyBtn]));
      el.addEventListener("keydown", function (ev) { ev.stopPropagation(); });
      if (root.ResizeObserver) {
        this.ro = new root.ResizeObserver(function () {
          if (self.rafResize) return;
          self.rafResize = root.requestAnimationFrame(function () { self.rafResize = null; self.relayout(); });
        });
        this.ro.observe(el);
      }
      this.syncControls();
    };

    P.T = function () { return this.state.epochs; };

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
                                     test_loss: [], test_accuracy: [], diverged_at: -1, done: false });
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
          run.diverged_at = m.diverged_at;
          if (m.done) {
            run.done = true;
            if (--left === 0) { w.terminate(); delete self.workers[g]; }
          }
          self.arrived(id, t0, m.epoch);
        };
        w.onerror = function (ev) { self.error.textContent = "Training failed in the page: " + (ev.message || ev); };
        w.postMessage({ id: id, data: d, runs: group.map(function (o) {
          return { key: o.label, cfg: { sizes: [d.features, st.hidden, d.classes], rule: { rule: o.rule, hp: self.hp(o) },
                                        epochs: st.epochs, batch_size: st.batch_size, seed: st.seed, bound: 1e6 } };
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
      var W = Math.max(1, Math.floor(parts.contentWidth(this.figure) || 640)), side = W >= api.SIDE_BY_SIDE;
      var w1 = side ? Math.floor((W - parts.GAP) / 2) : W, w2 = side ? W - parts.GAP - w1 : W;
      var H = side ? 300 : 240;
      this.lossChart.layout(w1, H, [0, 1], [-2, 1], false, true);
      this.accChart.layout(w2, H, [0, 1], [0, 100], false, false);
      this.draw();
      this.el.setAttribute("data-width", String(W));
      if (!this.ready) { this.ready = true; this.el.setAttribute("data-ready", "1"); }
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

    P.draw = function () {
      var self = this, E = this.state.epochs, runs = (this.runs || []).filter(function (r) { return self.isOn(r.label); });
      if (!this.lossChart.rect) return;
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
        L.line(function (i) { return [i, Math.max(r.train_loss_epoch[i], floor)]; }, r.train_loss_epoch.length, r.color, 2.4, null);
        L.dots(function (i) { return [i, Math.max(r.train_loss_epoch[i], floor)]; }, r.train_loss_epoch.length, r.color, 3);
      });
      L.clip(false);
      A.xr = [0, E]; A.yr = [0, 100];
      A.clear();
      A.axes("epoch", "test accuracy (%)", true);
      A.clip(true);
      runs.forEach(function (r) {
        A.line(function (i) { return [i, 100 * r.test_accuracy[i]]; }, r.test_accuracy.length, r.color, 2.4, null);
        A.dots(function (i) { return [i, 100 * r.test_accuracy[i]]; }, r.test_accuracy.length, r.color, 3);
      });
      A.clip(false);
      var now = root.performance.now(), done = runs.every(function (r) { return r.done; });
      if (done || !(now - this.lastStatus < STATUS_EVERY)) { this.status(); this.lastStatus = now; }
      this.timing.draws++;
    };

    P.status = function () {
      var self = this, E = this.state.epochs, busy = 0;
      (this.runs || []).forEach(function (r) {
        var row = self.rows[r.label], e = r.test_accuracy.length - 1;
        if (!r.done) busy++;
        if (!row || e < 0) return;
        var msg = (r.done ? "" : "training… ") + "test accuracy " + (100 * r.test_accuracy[e]).toFixed(1) +
          " %, training loss " + fmt(r.train_loss_epoch[e]) + " after " + e + " / " + E + " epochs";
        if (r.diverged_at >= 0) msg += " (✗ diverged at step " + r.diverged_at + ": parameters past ±10⁶)";
        row.status.textContent = msg;
      });
      this.progress.textContent = busy ? "Training " + busy + " network" + (busy > 1 ? "s" : "") + " in this page…"
        : (this.runs || []).length ? "Trained in this page" + (this.timing.race ? " in " + (this.timing.race / 1000).toFixed(1) + " s" : "") + "." : "";
    };

    // ---------------------------------------------------------------- code, hooks
    P.code = function () {
      var st = this.state, d = this.spec.data;
      return ["import optimlab as ol", "", "data = ol.datasets.digits()",
              "net = ol.nets.MLP((" + d.features + ", " + st.hidden + ", " + d.classes + "))"]
        .concat(this.optimizersCode())
        .concat(["runs = {label: ol.nets.train(opt, net, data, epochs=" + st.epochs + ", batch_size=" +
                 st.batch_size + ", seed=" + st.seed + ")", "        for label, opt in optimizers.items()}"]).join("\n");
    };

    P.snapshot = function () {
      var self = this, out = { state: JSON.parse(JSON.stringify(this.state)), runs: {},
                               done: this.el.getAttribute("data-done") === "1" };
      (this.runs || []).forEach(function (r) {
        if (!self.isOn(r.label)) return;
        out.runs[r.label] = { train_loss: r.train_loss.slice(), train_loss_epoch: r.train_loss_epoch.slice(),
                              test_loss: r.test_loss.slice(), test_accuracy: r.test_accuracy.slice(),
                              diverged_at: r.diverged_at, done: r.done };
      });
      return out;
    };

    P.destroy = function () {
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
