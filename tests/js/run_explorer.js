// Run the pure parts of optimlab's explorer (explorer.js) under node on a list of calls
// (tests/test_explorer_js.py writes them).
// usage: node run_explorer.js calls.json  → prints one result per call [{fn, args}, ...]
// JSON has no NaN or ±Infinity: the strings "nan", "inf", "-inf" stand for them both ways.
"use strict";
const fs = require("fs");
const path = require("path");
const assets = path.resolve(__dirname, "../../optimlab/assets");
const engine = require(path.join(assets, "engine.js"));
const ex = require(path.join(assets, "explorer.js"));

const SPECIAL = { nan: NaN, inf: Infinity, "-inf": -Infinity };
const revive = (k, v) => (typeof v === "string" && v in SPECIAL ? SPECIAL[v] : v);
const replace = (k, v) => {
  if (typeof v === "number" && !isFinite(v)) return isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
  if (ArrayBuffer.isView(v)) return Array.from(v);
  return v;
};

const CALLS = {
  decode: (ch) => ex.decode(ch),
  displayEnd: (xs, div, w) => ex.displayEnd(Float64Array.from(xs), xs.length / 2, div, w),
  lossLimits: (runs, floor) => ex.lossLimits(runs, floor),
  // The grid and levels the live map contours (the surface computed by the engine).
  surfaceGrid: (sp, n, levels) => {
    const g = ex.surfaceGrid(engine.surface(sp), sp, n, levels);
    return { z: g.z, levels: g.levels };
  },
  percentile: (sorted, p) => ex.percentile(sorted, p),
  ticksFor: (range, log, n) => ex.ticksFor(range, log, n),
  specProblem: (spec) => ex.specProblem(spec),
  // The copied code's `ol.Rule(...)` for a rule and its hyperparameters, with a spec's tables.
  ruleCode: (spec, rule, hp) => ex.LiveExplorer.prototype.ruleCode.call({ spec: spec }, rule, hp),
};

const calls = JSON.parse(fs.readFileSync(process.argv[2], "utf8"), revive);
const out = calls.map((c) => CALLS[c.fn].apply(null, c.args));
process.stdout.write(JSON.stringify(out, replace));
