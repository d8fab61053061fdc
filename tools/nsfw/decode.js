// Decodes a fixture the way a Node user of nsfwjs does without native modules: pngjs for PNG,
// jpeg-js for JPEG, then the RGBA -> RGB copy from nsfwjs's README (alpha is dropped, not
// composited). Shared by reference.js and bench.js.
'use strict';
const fs = require('fs');
const path = require('path');
const { PNG } = require('pngjs');
const jpeg = require('jpeg-js');

function decodeRgb(file) {
  const bytes = fs.readFileSync(file);
  const ext = path.extname(file).toLowerCase();
  let image;
  if (ext === '.png') {
    image = PNG.sync.read(bytes); // always RGBA, 8 bits a sample; grey and palette expanded
  } else if (ext === '.jpg' || ext === '.jpeg') {
    image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
  } else {
    throw new Error('unsupported fixture type: ' + file);
  }
  const numPixels = image.width * image.height;
  const rgb = new Uint8Array(numPixels * 3);
  for (let i = 0; i < numPixels; i++) {
    for (let c = 0; c < 3; c++) {
      rgb[i * 3 + c] = image.data[i * 4 + c];
    }
  }
  return { width: image.width, height: image.height, rgb };
}

function listFixtures(dir) {
  return fs.readdirSync(dir).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort();
}

module.exports = { decodeRgb, listFixtures };
