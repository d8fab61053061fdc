// The nsfwjs side of `./qwen-image bench nsfw`: ms per image of nsfwjs's own infer() (preprocessing
// + model, as NSFWJS.classify runs it) on one TF.js backend, the images decoded beforehand.
//
//   node bench.js --backend wasm|cpu [--fixtures DIR] [--limit N] [--rounds R] [--warmup W] [--start-at EPOCH_MS]
//
// Prints one JSON line: {"backend", "threads", "simd", "images", "rounds", "msPerImage": [per round],
// "cpuMsPerImage": [per round]} (CPU time of the whole Node process: user + system).
// --start-at: after loading and warming up, wait until this wall-clock time before the measured
// rounds (so that several processes started together measure the same interval: "all cores"), and
// report "startedLate" (the wait had already passed), "startEpochMs" and "endEpochMs".
'use strict';
const path = require('path');
const tf = require('@tensorflow/tfjs');
const nsfwjs = require('nsfwjs');
const { decodeRgb, listFixtures } = require('./decode.js');

function option(name, fallback) {
  const i = process.argv.indexOf('--' + name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

async function main() {
  const backend = option('backend', 'wasm');
  const fixtures = path.resolve(option('fixtures', path.join(__dirname, '../../server/src/test/resources/nsfw/fixtures')));
  const limit = parseInt(option('limit', '1000000'), 10);
  const rounds = parseInt(option('rounds', '5'), 10);
  const warmup = parseInt(option('warmup', '1'), 10);
  const startAt = parseInt(option('start-at', '0'), 10);
  let threads = 1;
  let simd = false;
  if (backend === 'wasm') {
    const wasm = require('@tensorflow/tfjs-backend-wasm');
    await tf.setBackend('wasm');
    await tf.ready();
    simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    threads = (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) ? wasm.getThreadsCount() : 1;
  } else if (backend === 'cpu') {
    await tf.setBackend('cpu');
    await tf.ready();
  } else {
    throw new Error('unknown backend ' + backend);
  }
  const model = await nsfwjs.load();
  const files = listFixtures(fixtures);
  // spread a limited subset over the whole list (sizes differ)
  const step = Math.max(1, Math.floor(files.length / Math.min(limit, files.length)));
  const chosen = files.filter((_, i) => i % step === 0).slice(0, limit);
  const images = chosen.map((f) => {
    const { width, height, rgb } = decodeRgb(path.join(fixtures, f));
    return tf.tensor3d(Int32Array.from(rgb), [height, width, 3], 'int32');
  });
  const runOnce = async () => {
    for (const image of images) {
      const out = model.infer(image);
      await out.data();
      out.dispose();
    }
  };
  for (let i = 0; i < warmup; i++) {
    await runOnce();
  }
  const startedLate = startAt > 0 && Date.now() > startAt;
  if (startAt > Date.now()) {
    await new Promise((resolve) => setTimeout(resolve, startAt - Date.now()));
  }
  const startEpochMs = Date.now();
  const msPerImage = [];
  const cpuMsPerImage = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    await runOnce();
    const cpu = process.cpuUsage(c0);
    msPerImage.push(Number(process.hrtime.bigint() - t0) / 1e6 / images.length);
    cpuMsPerImage.push((cpu.user + cpu.system) / 1000 / images.length);
  }
  const endEpochMs = Date.now();
  console.log(JSON.stringify({ backend, threads, simd, images: chosen, rounds, msPerImage, cpuMsPerImage,
    startedLate, startEpochMs, endEpochMs }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
