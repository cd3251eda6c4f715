// Run optimlab's browser network trainer under node on a list of cases (tests/test_network_js.py).
// usage: node run_network.js cases.json  → prints [{train_loss, train_loss_epoch, test_loss,
// test_accuracy, params, diverged_at, W1 (per epoch), wrong (per epoch)}, ...] (NaN and infinities as
// null); each case's data scaled by its cfg.scaling; with cfg.plane ({d1, d2}), proj (per epoch [a, b, ‖θₑ − θ₀‖²])
"use strict";
const fs = require("fs");
const path = require("path");
require(path.resolve(__dirname, "../../optimlab/assets/engine.js"));
const net = require(path.resolve(__dirname, "../../optimlab/assets/network.js"));
const input = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const data = {};
const out = input.cases.map(cfg => {
  const name = cfg.scaling ? cfg.scaling.name : "given";
  const D = data[name] || (data[name] = net.data(input.data, cfg.scaling));
  const r = net.train(cfg, D);
  return { train_loss: Array.from(r.train_loss), train_loss_epoch: r.train_loss_epoch, test_loss: r.test_loss,
           test_accuracy: r.test_accuracy, params: Array.from(r.params), diverged_at: r.diverged_at,
           W1: r.W1.map(w => Array.from(w)), wrong: r.wrong.map(w => Array.from(w)), proj: r.proj };
});
process.stdout.write(JSON.stringify(out));
