// TensorFlow.js as an outside oracle for the augmentation kernels and layers.
// Writes ../ConvEngine.Tests/Fixtures/tfjs/augment/*.json: each holds small seeded inputs, the op and its arguments,
// and tfjs's output. Regenerate with `npm ci` once, then `node augment.mjs` (from tests/tfjs, through cpu-slot).
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'ConvEngine.Tests', 'Fixtures', 'tfjs', 'augment');
mkdirSync(out, { recursive: true });
await tf.setBackend('cpu');

// A small deterministic generator (LCG), so the inputs do not depend on Math.random.
function values(seed, count) {
  let s = seed >>> 0;
  const v = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = Math.fround((s >>> 8) / 16777216);
  }
  return v;
}

function write(name, record) {
  writeFileSync(join(out, name + '.json'), JSON.stringify({ generator: `@tensorflow/tfjs ${tf.version.tfjs}`, ...record }) + '\n');
  console.log('wrote', name);
}

const flat = (t) => Array.from(t.dataSync());

// tf.image.transform = ImageProjectiveTransformV3: rotation, shift (several periods out), zoom and a projective row.
const [n, h, w, c] = [4, 7, 9, 2];
const images = values(1, n * h * w * c);
const theta = 50 * Math.PI / 180;
const cx = (w - 1) / 2, cy = (h - 1) / 2;
const rows = [
  [Math.cos(theta), -Math.sin(theta), cx - Math.cos(theta) * cx + Math.sin(theta) * cy, Math.sin(theta), Math.cos(theta), cy - Math.sin(theta) * cx - Math.cos(theta) * cy, 0, 0],
  [1, 0, -1.6 * w, 0, 1, 0.7 * h, 0, 0],
  [1.37, 0, cx * (1 - 1.37), 0, 0.71, cy * (1 - 0.71), 0, 0],
  [0.9, 0.2, -1.5, -0.15, 1.1, 0.5, 0.03, -0.04],
].map((r) => r.map(Math.fround));
// tfjs 4.22's cpu Transform kernel returns after the first image of a batch, so each image is transformed on its own.
for (const fillMode of ['reflect', 'wrap', 'constant', 'nearest']) {
  for (const interpolation of ['bilinear', 'nearest']) {
    const fillValue = 0.375;
    const output = [];
    for (let b = 0; b < n; b++) {
      const image = tf.tensor4d(images.subarray(b * h * w * c, (b + 1) * h * w * c), [1, h, w, c]);
      output.push(...flat(tf.image.transform(image, tf.tensor2d(rows[b], [1, 8]), interpolation, fillMode, fillValue)));
    }
    write(`transform-${fillMode}-${interpolation}`, {
      op: 'transform', shape: [n, h, w, c], input: Array.from(images), transforms: rows.flat(), fillMode, interpolation, fillValue,
      outputShape: [n, h, w, c], output,
    });
  }
}

// tf.image.resize* with half-pixel centres (tf.image.resize in TF 2 and Keras's Resizing, RandomWidth, RandomHeight).
for (const [name, size] of [['up', [11, 13]], ['down', [3, 4]], ['width', [7, 23]]]) {
  const x = tf.tensor4d(images, [n, h, w, c]);
  const bilinear = tf.image.resizeBilinear(x, size, false, true);
  write(`resize-bilinear-${name}`, { op: 'resize', shape: [n, h, w, c], input: Array.from(images), interpolation: 'bilinear', size, outputShape: bilinear.shape, output: flat(bilinear) });
  const nearest = tf.image.resizeNearestNeighbor(x, size, false, true);
  write(`resize-nearest-${name}`, { op: 'resize', shape: [n, h, w, c], input: Array.from(images), interpolation: 'nearest', size, outputShape: nearest.shape, output: flat(nearest) });
}

// Flips: tf.image.flipLeftRight and a reverse of the height axis (flip_up_down).
{
  const x = tf.tensor4d(images, [n, h, w, c]);
  write('flip-left-right', { op: 'flip', shape: [n, h, w, c], input: Array.from(images), horizontal: true, vertical: false, output: flat(tf.image.flipLeftRight(x)) });
  write('flip-up-down', { op: 'flip', shape: [n, h, w, c], input: Array.from(images), horizontal: false, vertical: true, output: flat(tf.reverse(x, 1)) });
}

// The Keras preprocessing layers tfjs has, in training mode, and their configs (tfjs's RandomWidth rounds the width and
// resizes without half-pixel centres, unlike Keras, so it is left out).
const layerCases = [
  ['rescaling', () => tf.layers.rescaling({ scale: 1 / 255, offset: 0.5 })],
  ['resizing', () => tf.layers.resizing({ height: 5, width: 11, interpolation: 'bilinear' })],
  ['resizing-nearest', () => tf.layers.resizing({ height: 10, width: 6, interpolation: 'nearest' })],
  ['center-crop', () => tf.layers.centerCrop({ height: 4, width: 6 })],
];
for (const [name, make] of layerCases) {
  let layer;
  try { layer = make(); } catch (e) { console.log('skipped', name, '(', e.message, ')'); continue; }
  const x = tf.tensor4d(values(7, 2 * 8 * 10 * 3).map((v) => Math.fround(v * 255)), [2, 8, 10, 3]);
  const y = layer.apply(x, { training: true });
  const model = tf.sequential({ layers: [tf.layers.inputLayer({ inputShape: [8, 10, 3] }), make()] });
  write(`layer-${name}`, {
    op: 'layer', className: layer.getClassName(), config: layer.getConfig(), shape: x.shape, input: flat(x), outputShape: y.shape, output: flat(y),
    modelTopology: model.toJSON(null, false),
  });
}
