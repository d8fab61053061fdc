// Writes the raw TF.js layers model (model.json + weight shard) out of the browserify modules that
// the nsfwjs npm package ships in dist/models/<name>/. Used by extract-model.sh; see README.md.
//
//   node extract-model.js <package>/dist/models/mobilenet_v2 <out-dir>
//
// model.min.js exports the model.json object; each group1-shardNofM.min.js exports one weight shard
// as a base64 string. The only change made to model.json: each weight path gains ".bin", the file
// name the shard is written under, so the folder is an ordinary TF.js model that
// tf.loadLayersModel('file://.../model.json') and the Java loader both read as it is.
'use strict';
const fs = require('fs');
const path = require('path');

const [src, out] = process.argv.slice(2);
if (!src || !out) {
  console.error('usage: node extract-model.js <dist/models/name> <out-dir>');
  process.exit(2);
}
const model = require(path.resolve(src, 'model.min.js'));
if (!model.modelTopology || !Array.isArray(model.weightsManifest)) {
  throw new Error('model.min.js does not export a TF.js layers model (modelTopology + weightsManifest)');
}
fs.mkdirSync(out, { recursive: true });
for (const group of model.weightsManifest) {
  group.paths = group.paths.map((p) => {
    const base64 = require(path.resolve(src, p + '.min.js'));
    if (typeof base64 !== 'string') throw new Error(p + '.min.js does not export a base64 string');
    const bytes = Buffer.from(base64, 'base64');
    fs.writeFileSync(path.join(out, p + '.bin'), bytes);
    console.log(`${p}.bin: ${bytes.length} bytes`);
    return p + '.bin';
  });
}
fs.writeFileSync(path.join(out, 'model.json'), JSON.stringify(model));
console.log(`model.json: ${fs.statSync(path.join(out, 'model.json')).size} bytes`);
