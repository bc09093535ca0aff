// The peer for benches/guard.rs: express-mongo-sanitize (pinned in xtask/node, installed in
// target/node by `cargo xtask services up`) on the same filters, timed the way palisade-test's
// `time_consuming` times ours: each call gets its own copy of a filter, made (with
// structuredClone) in chunks of 32 outside the timing; the median of 41 batches of about 5 ms.
//
// Usage: node sanitize.js NODE_MODULES_DIR MODE < filters.json   -> prints ns per call
//   MODE sanitize: sanitize(filter), which deletes `$` and dotted keys in place;
//   MODE dry-run:  sanitize(filter, {dryRun: true}), which only walks.
'use strict';

const path = require('path');
const { sanitize } = require(path.resolve(process.argv[2], 'express-mongo-sanitize'));
const options = { sanitize: {}, 'dry-run': { dryRun: true } }[process.argv[3]];
if (options === undefined) throw new Error(`unknown mode ${process.argv[3]}`);

const filters = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const CHUNK = 32;
let next = 0;
let kept = 0;

function chunk() {
  const inputs = [];
  for (let i = 0; i < CHUNK; i += 1) {
    inputs.push(structuredClone(filters[next]));
    next = (next + 1) % filters.length;
  }
  return inputs;
}

// Nanoseconds per call over `chunks` chunks, copies made outside the timing.
function batchNs(chunks) {
  let elapsed = 0n;
  for (let c = 0; c < chunks; c += 1) {
    const inputs = chunk();
    const outputs = new Array(CHUNK);
    const start = process.hrtime.bigint();
    for (let i = 0; i < CHUNK; i += 1) outputs[i] = sanitize(inputs[i], options);
    elapsed += process.hrtime.bigint() - start;
    if (outputs[CHUNK - 1] === inputs[CHUNK - 1]) kept += 1;
  }
  return Number(elapsed) / (chunks * CHUNK);
}

let chunks = 1;
for (;;) {
  const ns = batchNs(chunks);
  if (ns * chunks * CHUNK >= 1.25e6 || chunks >= 2 ** 24) {
    chunks = Math.max(1, Math.ceil(5e6 / (ns * CHUNK)));
    break;
  }
  chunks *= 4;
}
const samples = [];
for (let round = 0; round < 41; round += 1) samples.push(batchNs(chunks));
samples.sort((a, b) => a - b);
if (kept === 0) throw new Error('sanitize returned another object');
process.stdout.write(`${samples[20]}\n`);
