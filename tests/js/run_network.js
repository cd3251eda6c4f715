// Run optimlab's browser network trainer under node on a list of cases (tests/test_network_js.py).
// usage: node run_network.js cases.json  → prints [{train_loss, train_loss_epoch, test_loss,
// test_accuracy, params, diverged_at}, ...] (NaN and infinities as null)
"use strict";
const fs = require("fs");
const path = require("path");
require(path.resolve(__dirname, "../../optimlab/assets/engine.js"));
const net = require(path.resolve(__dirname, "../../optimlab/assets/network.js"));
const input = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const D = net.data(input.data);
const out = input.cases.map(cfg => {
  const r = net.train(cfg, D);
  return { train_loss: Array.from(r.train_loss), train_loss_epoch: r.train_loss_epoch, test_loss: r.test_loss,
           test_accuracy: r.test_accuracy, params: Array.from(r.params), diverged_at: r.diverged_at };
});
process.stdout.write(JSON.stringify(out));
