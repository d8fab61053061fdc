// Reference probabilities for the Java classifier's parity test, computed by nsfwjs itself on
// the pure-JavaScript TensorFlow.js CPU backend (no native code, no SIMD: the plainest arithmetic
// TF.js has). Writes server/src/test/resources/nsfw/reference.json.
//
//   cd tools/nsfw && npm ci && node reference.js [fixtures-dir] [out.json]
//
// For each fixture it also records the SHA-256 of the decoded RGB bytes, so the Java test can
// prove that ImageIO decodes the file to exactly the pixels that were classified here.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');
const nsfwjs = require('nsfwjs');
const { decodeRgb, listFixtures } = require('./decode.js');

const ROOT = path.resolve(__dirname, '../..');
const fixtures = path.resolve(process.argv[2] || path.join(ROOT, 'server/src/test/resources/nsfw/fixtures'));
const out = path.resolve(process.argv[3] || path.join(ROOT, 'server/src/test/resources/nsfw/reference.json'));
const CLASSES = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'];

function version(pkg) {
  // read the file: some packages (nsfwjs) do not export ./package.json
  return JSON.parse(fs.readFileSync(path.join(__dirname, 'node_modules', pkg, 'package.json'), 'utf8')).version;
}

async function main() {
  await tf.setBackend('cpu');
  await tf.ready();
  const model = await nsfwjs.load(); // the default model: MobileNetV2, bundled in the package
  const result = {
    generatedBy: 'tools/nsfw/reference.js',
    nsfwjs: version('nsfwjs'),
    tfjs: version('@tensorflow/tfjs'),
    backend: tf.getBackend(),
    node: process.version,
    classes: CLASSES,
    fixtures: {},
  };
  for (const name of listFixtures(fixtures)) {
    const { width, height, rgb } = decodeRgb(path.join(fixtures, name));
    const image = tf.tensor3d(Int32Array.from(rgb), [height, width, 3], 'int32');
    // infer() gives the softmax output in the model's class order ...
    const output = model.infer(image);
    const inOrder = Array.from(await output.data());
    output.dispose();
    // ... and classify() names them with nsfwjs's own index -> class table (NSFW_CLASSES).
    const named = await model.classify(image, CLASSES.length);
    image.dispose();
    const probabilities = {};
    CLASSES.forEach((c, i) => {
      const p = named.find((n) => n.className === c);
      if (!p || p.probability !== inOrder[i]) {
        throw new Error(`${name}: class ${c} is not at index ${i} of the model output`);
      }
      probabilities[c] = inOrder[i];
    });
    result.fixtures[name] = {
      width,
      height,
      rgbSha256: crypto.createHash('sha256').update(rgb).digest('hex'),
      probabilities,
    };
    const top = named[0];
    console.log(`${name.padEnd(40)} ${top.className.padEnd(8)} ${top.probability.toFixed(4)}`);
  }
  fs.writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  console.log(`wrote ${out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
