// Run optimlab's browser engine under node on a list of cases (tests/test_engine.py writes them).
// usage: node run_engine.js cases.json  → prints [{xs: [...], losses: [...], divergedAt}, ...]
"use strict";
const fs = require("fs");
const path = require("path");
const engine = require(path.resolve(__dirname, "../../optimlab/assets/engine.js"));
const cases = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const out = cases.map(c => {
  const r = engine.run(c.optimizer, c.surface, c.x0, c.steps, c.bound);
  return { xs: Array.from(r.xs), losses: Array.from(r.losses), divergedAt: r.divergedAt };
});
process.stdout.write(JSON.stringify(out));
