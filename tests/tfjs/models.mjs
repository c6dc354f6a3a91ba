// Builds small Keras models with TensorFlow.js 4.22 (Sequential and functional, the layers keras.applications
// bases use), gives them seeded random weights, saves each in the TF.js Layers format (model.json + binary
// shards) unquantised and quantised (uint8, uint16, float16), loads the saved files back with tfjs's own
// loader and records that model's predictions on fixed inputs. Also records tfjs's Conv2D / pooling SAME
// padding on odd sizes and half-pixel bilinear resize. Writes under tests/ConvEngine.Tests/Fixtures/tfjs/:
//   models/<name>/model.json, *.bin, expected.json   (the model as tfjs loaded it, its inputs and outputs)
//   weights/dtypes/weights.json, *.bin, expected.json (a weights manifest of every dtype and quantisation)
//   oracle/same_padding.json, oracle/resize_bilinear.json
// Run from this folder: npm ci; node models.mjs
import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

await tf.setBackend('cpu');
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../ConvEngine.Tests/Fixtures/tfjs');

// mulberry32: a small seeded generator, so every run writes the same files.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const uniform = (next, n, lo, hi) => Float32Array.from({ length: n }, () => lo + (hi - lo) * next());

/** Seeded weights; variances (and the matching non-negative weights of BatchNormalization) positive. */
function randomizeWeights(model, seed) {
  const next = rng(seed);
  for (const layer of model.layers) setLayerWeights(layer, next);
}
function setLayerWeights(layer, next) {
  if (layer.layers) { for (const inner of layer.layers) setLayerWeights(inner, next); return; }
  const weights = layer.weights;
  if (weights.length === 0) return;
  const values = weights.map(w => {
    const n = w.shape.reduce((a, b) => a * b, 1);
    const name = w.originalName ?? w.name;
    const data = /moving_variance|gamma/.test(name) ? uniform(next, n, 0.5, 1.5) : uniform(next, n, -0.5, 0.5);
    return tf.tensor(data, w.shape);
  });
  layer.setWeights(values);
  values.forEach(v => v.dispose());
}

// --- quantisation, as the tensorflowjs converter writes it (affine uint8/uint16 with a nudged min; float16) ---
function quantize(values, dtype) {
  if (dtype === 'float16') {
    const out = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = toHalf(values[i]);
    return { bytes: new Uint8Array(out.buffer), quantization: { dtype: 'float16' } };
  }
  const levels = dtype === 'uint8' ? 255 : 65535;
  let min = Math.min(...values), max = Math.max(...values);
  if (min > 0) min = 0;            // the range always includes 0, so zero is represented exactly
  if (max < 0) max = 0;
  const scale = max === min ? 1 : (max - min) / levels;
  const nudgedMin = Math.round(min / scale) * scale;
  const out = dtype === 'uint8' ? new Uint8Array(values.length) : new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Math.min(levels, Math.max(0, Math.round((values[i] - nudgedMin) / scale)));
  return { bytes: new Uint8Array(out.buffer), quantization: { dtype, scale, min: nudgedMin } };
}
function toHalf(value) {
  const f = new Float32Array([value]);
  const x = new Uint32Array(f.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  let exponent = ((x >>> 23) & 0xff) - 127 + 15;
  let mantissa = x & 0x7fffff;
  if (exponent >= 31) return sign | 0x7c00;
  if (exponent <= 0) {
    if (exponent < -10) return sign;
    mantissa = (mantissa | 0x800000) >>> (1 - exponent);
    return sign | ((mantissa + 0x1000) >>> 13);
  }
  return sign | (exponent << 10) | ((mantissa + 0x1000) >>> 13);
}

/**
 * Saves through tf.io.withSaveHandler and writes model.json and the shards ourselves (tfjs-node's file:// handler
 * is not available). The weights go into `groups` manifest groups, each cut into shards of at most `shardBytes`.
 */
async function saveModel(model, dir, { quantization = null, groups = 1, shardBytes = 4 * 1024 * 1024 } = {}) {
  let artifacts;
  await model.save(tf.io.withSaveHandler(async a => { artifacts = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }; }));
  const data = new Uint8Array(artifacts.weightData);
  const entries = [];
  let offset = 0;
  for (const spec of artifacts.weightSpecs) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const raw = data.slice(offset, offset + 4 * n);
    offset += 4 * n;
    if (quantization && spec.dtype === 'float32') {
      const q = quantize(new Float32Array(raw.buffer), quantization);
      entries.push({ spec: { ...spec, quantization: q.quantization }, bytes: q.bytes });
    } else entries.push({ spec, bytes: raw });
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const perGroup = Math.ceil(entries.length / groups);
  const manifest = [];
  for (let g = 0; g < groups; g++) {
    const members = entries.slice(g * perGroup, (g + 1) * perGroup);
    if (members.length === 0) continue;
    const total = members.reduce((a, e) => a + e.bytes.length, 0);
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const e of members) { bytes.set(e.bytes, at); at += e.bytes.length; }
    const shardCount = Math.max(1, Math.ceil(total / shardBytes));
    const paths = [];
    for (let s = 0; s < shardCount; s++) {
      const name = `group${g + 1}-shard${s + 1}of${shardCount}.bin`;
      fs.writeFileSync(path.join(dir, name), bytes.slice(s * shardBytes, Math.min(total, (s + 1) * shardBytes)));
      paths.push(name);
    }
    manifest.push({ paths, weights: members.map(e => e.spec) });
  }
  const modelJson = {
    modelTopology: artifacts.modelTopology,
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy ?? null,
    weightsManifest: manifest,
  };
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(modelJson));
}

/** Loads model.json back through tfjs's own HTTP loader (manifest, relative paths, shards, dequantisation), serving files from disk. */
async function loadSaved(dir) {
  const fetchFunc = async url => {
    const file = path.join(dir, decodeURIComponent(new URL(url).pathname.split('/').pop()));
    const body = fs.readFileSync(file);
    return new Response(body, { status: 200, headers: { 'Content-Type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream' } });
  };
  return tf.loadLayersModel(tf.io.http('http://fixtures.invalid/model/model.json', { fetchFunc }));
}

const round = xs => Array.from(xs, v => Number(v));

/** Saves, reloads with tfjs, predicts on a fixed batch, and writes expected.json beside the files. */
async function fixture(name, build, { inputShape, batch = 2, inputScale = 1, seed = 1, variants = [null], groups = 1, shardBytes } = {}) {
  for (const quantization of variants) {
    tf.engine().startScope();
    const model = build();
    randomizeWeights(model, seed);
    const dirName = quantization ? `${name}-${quantization}` : name;
    const dir = path.join(root, 'models', dirName);
    await saveModel(model, dir, { quantization, groups, shardBytes });
    const loaded = await loadSaved(dir);
    const next = rng(seed + 1000);
    const n = batch * inputShape.reduce((a, b) => a * b, 1);
    const input = uniform(next, n, -inputScale, inputScale);
    const x = tf.tensor(input, [batch, ...inputShape]);
    const y = loaded.predict(x);
    // Every layer's input and output shapes (nested models' layers too), for writers of other formats' configs.
    const layerShapes = {};
    // A nested model's last inbound node is its call in the outer graph (node 0 is its own input).
    const shapeOf = x => Array.isArray(x) ? x.map(t => t.shape) : x.shape;
    const walk = m => m.layers.forEach(l => {
      const node = l.inboundNodes.length - 1;
      layerShapes[l.name] = { input: shapeOf(l.getInputAt(node)), output: shapeOf(l.getOutputAt(node)) };
      if (l.layers) walk(l);
    });
    walk(loaded);
    const expected = {
      generated_by: `@tensorflow/tfjs ${tf.version.tfjs} (tests/tfjs/models.mjs)`,
      quantization: quantization ?? 'none',
      layers: loaded.layers.map(l => l.getClassName()),
      layer_shapes: layerShapes,
      input_shape: [batch, ...inputShape],
      input: round(input),
      output_shape: y.shape,
      output: round(await y.data()),
    };
    fs.writeFileSync(path.join(dir, 'expected.json'), JSON.stringify(expected));
    console.log(`${dirName}: ${expected.layers.join(' ')} -> [${y.shape}]`);
    tf.engine().endScope();
  }
}

const L = tf.layers;

// 1. Sequential: the course's kinds of layers (convolutions, pools, batch norm, dropout, dense), odd input size;
//    float32 in two manifest groups of several shards, and each quantisation.
await fixture('sequential_cnn', () => tf.sequential({
  layers: [
    L.conv2d({ inputShape: [9, 9, 3], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
    L.maxPooling2d({ poolSize: 2, padding: 'same' }),
    L.conv2d({ filters: 6, kernelSize: [2, 3], strides: 2, padding: 'valid', activation: 'tanh' }),
    L.batchNormalization(),
    L.averagePooling2d({ poolSize: 2, strides: 1, padding: 'same' }),
    L.flatten(),
    L.dropout({ rate: 0.3 }),
    L.dense({ units: 8, activation: 'relu' }),
    L.dense({ units: 3, activation: 'softmax' }),
  ],
}), { inputShape: [9, 9, 3], variants: [null, 'uint8', 'uint16', 'float16'], groups: 2, shardBytes: 256 });

// 2. Functional: branches joined by Add and Concatenate, a nested Sequential, symmetric zero padding, GAP.
await fixture('functional_branches', () => {
  const input = tf.input({ shape: [8, 8, 2] });
  const a = L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(input);
  const b = L.conv2d({ filters: 4, kernelSize: 1 }).apply(input);
  const sum = L.add().apply([a, b]);
  const inner = tf.sequential({ name: 'inner_block', layers: [
    L.zeroPadding2d({ inputShape: [8, 8, 4], padding: 1 }),
    L.conv2d({ filters: 3, kernelSize: 3, padding: 'valid' }),
    L.batchNormalization(),
    L.activation({ activation: 'sigmoid' }),
  ] });
  const c = inner.apply(sum);
  const joined = L.concatenate().apply([c, input]);
  const pooled = L.globalAveragePooling2d({}).apply(joined);
  const out = L.dense({ units: 4, activation: 'sigmoid' }).apply(pooled);
  return tf.model({ inputs: input, outputs: out });
}, { inputShape: [8, 8, 2], variants: [null, 'uint8'] });

// 3. One small model per layer of keras.applications bases, so each can be checked on its own.
const single = (inputShape, ...layers) => () => tf.sequential({ layers: [L.inputLayer({ inputShape }), ...layers] });
await fixture('depthwise_conv2d', single([7, 7, 3],
  L.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, strides: 2, padding: 'same' })), { inputShape: [7, 7, 3] });
await fixture('depthwise_conv2d_valid', single([8, 8, 2],
  L.depthwiseConv2d({ kernelSize: [3, 2], padding: 'valid', useBias: false, activation: 'relu' })), { inputShape: [8, 8, 2] });
await fixture('separable_conv2d', single([7, 7, 3],
  L.separableConv2d({ filters: 5, kernelSize: 3, padding: 'same', activation: 'relu' })), { inputShape: [7, 7, 3] });
await fixture('separable_conv2d_strided', single([9, 9, 2],
  // depth_multiplier 1: tfjs 4.22 does not write SeparableConv2D's depth_multiplier into the config, so its own
  // loader cannot read back a model with another (the depth multiplier is covered by DepthwiseConv2D above).
  L.separableConv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', useBias: false })), { inputShape: [9, 9, 2] });
await fixture('relu_max_value', single([5, 5, 2],
  L.conv2d({ filters: 3, kernelSize: 1 }), L.reLU({ maxValue: 6 })), { inputShape: [5, 5, 2], inputScale: 16 });
await fixture('batch_norm_no_scale_center', single([4, 4, 3],
  L.batchNormalization({ scale: false, center: false }), L.batchNormalization({ center: false })), { inputShape: [4, 4, 3] });
await fixture('zero_padding_asymmetric', single([5, 6, 2],
  L.zeroPadding2d({ padding: [[1, 2], [0, 3]] }), L.conv2d({ filters: 2, kernelSize: 3, strides: 2, padding: 'valid' })), { inputShape: [5, 6, 2] });
await fixture('cropping2d', single([7, 8, 2],
  L.cropping2D({ cropping: [[1, 0], [2, 1]] })), { inputShape: [7, 8, 2] });
await fixture('global_max_pooling2d', single([5, 6, 3],
  L.conv2d({ filters: 4, kernelSize: 2 }), L.globalMaxPooling2d({})), { inputShape: [5, 6, 3] });
await fixture('multiply', () => {
  const input = tf.input({ shape: [6, 6, 2] });
  const a = L.conv2d({ filters: 3, kernelSize: 3, padding: 'same' }).apply(input);
  const b = L.conv2d({ filters: 3, kernelSize: 1, activation: 'sigmoid' }).apply(input);
  return tf.model({ inputs: input, outputs: L.multiply().apply([a, b]) });
}, { inputShape: [6, 6, 2] });
// Squeeze-and-excitation as EfficientNet and MobileNetV3 build it: GAP, Reshape to (1, 1, C), 1x1 convs, Multiply (broadcast).
await fixture('squeeze_excite', () => {
  const input = tf.input({ shape: [6, 6, 4] });
  const x = L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'swish' }).apply(input);
  let s = L.globalAveragePooling2d({}).apply(x);
  s = L.reshape({ targetShape: [1, 1, 4] }).apply(s);
  s = L.conv2d({ filters: 2, kernelSize: 1, activation: 'relu' }).apply(s);
  s = L.conv2d({ filters: 4, kernelSize: 1, activation: 'sigmoid' }).apply(s);
  return tf.model({ inputs: input, outputs: L.multiply().apply([x, s]) });
}, { inputShape: [6, 6, 4] });
await fixture('reshape', single([4, 4, 3],
  L.conv2d({ filters: 2, kernelSize: 1 }), L.reshape({ targetShape: [8, 4] }), L.reshape({ targetShape: [32] }), L.dense({ units: 3 })), { inputShape: [4, 4, 3] });
await fixture('conv2d_transpose', single([4, 5, 3],
  L.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'same' })), { inputShape: [4, 5, 3] });
await fixture('conv2d_transpose_valid', single([3, 4, 2],
  L.conv2dTranspose({ filters: 3, kernelSize: [3, 2], strides: [2, 3], padding: 'valid', activation: 'relu' })), { inputShape: [3, 4, 2] });
for (const activation of ['swish', 'hard_sigmoid', 'relu6', 'elu', 'selu', 'softplus', 'softsign', 'gelu', 'mish', 'tanh', 'sigmoid', 'linear']) {
  const tfjsName = activation === 'hard_sigmoid' ? 'hardSigmoid' : activation;
  await fixture(`activation_${activation}`, single([4, 4, 2], L.activation({ activation: tfjsName })), { inputShape: [4, 4, 2], inputScale: 4 });
}

// 4. A MobileNetV2-like inverted residual block: every application layer in one functional graph, uint8 too.
await fixture('mobilenet_block', () => {
  const input = tf.input({ shape: [10, 10, 3] });
  let x = L.zeroPadding2d({ padding: [[0, 1], [0, 1]] }).apply(input);
  x = L.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'valid', useBias: false }).apply(x);
  x = L.batchNormalization({ epsilon: 1e-3, momentum: 0.999 }).apply(x);
  const shortcut = L.reLU({ maxValue: 6 }).apply(x);
  x = L.conv2d({ filters: 16, kernelSize: 1, padding: 'same', useBias: false }).apply(shortcut);
  x = L.batchNormalization().apply(x);
  x = L.reLU({ maxValue: 6 }).apply(x);
  x = L.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false }).apply(x);
  x = L.batchNormalization().apply(x);
  x = L.reLU({ maxValue: 6 }).apply(x);
  x = L.conv2d({ filters: 8, kernelSize: 1, padding: 'same', useBias: false }).apply(x);
  x = L.batchNormalization().apply(x);
  x = L.add().apply([shortcut, x]);
  x = L.separableConv2d({ filters: 12, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(x);
  x = L.globalAveragePooling2d({}).apply(x);
  x = L.dropout({ rate: 0.2 }).apply(x);
  const out = L.dense({ units: 5, activation: 'softmax' }).apply(x);
  return tf.model({ inputs: input, outputs: out });
}, { inputShape: [10, 10, 3], variants: [null, 'uint8'] });

// A graph whose Keras 3 layer order (by depth from the output, then traversal order) differs from a plain
// topological order: conv_a → conv_a2 is the longer branch, conv_b the shorter one, and Add takes conv_b first.
await fixture('functional_depth_order', () => {
  const input = tf.input({ shape: [6, 6, 2] });
  const a = L.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv_a' }).apply(input);
  const a2 = L.conv2d({ filters: 3, kernelSize: 1, name: 'conv_a2' }).apply(a);
  const b = L.conv2d({ filters: 3, kernelSize: 3, padding: 'same', name: 'conv_b' }).apply(input);
  const sum = L.add({ name: 'sum' }).apply([b, a2]);
  const pooled = L.globalAveragePooling2d({ name: 'pool' }).apply(sum);
  return tf.model({ inputs: input, outputs: L.dense({ units: 2, name: 'head' }).apply(pooled), name: 'depth_order' });
}, { inputShape: [6, 6, 2] });

// 5. A weights manifest of every dtype the format has (float32, int32, bool) and each quantisation, decoded by tfjs.
{
  const dir = path.join(root, 'weights', 'dtypes');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const next = rng(7);
  const f = uniform(next, 12, -3, 2);
  const tensors = [
    { name: 'float32', tensor: tf.tensor(f, [3, 4]) },
    { name: 'int32', tensor: tf.tensor([-7, 0, 3, 2147483647, -2147483648], [5], 'int32') },
    { name: 'bool', tensor: tf.tensor([true, false, true], [3], 'bool') },
    { name: 'scalar', tensor: tf.scalar(2.5) },
  ];
  const { data, specs } = await tf.io.encodeWeights(tensors);
  const parts = [new Uint8Array(data)];
  const allSpecs = [...specs];
  for (const dtype of ['uint8', 'uint16', 'float16']) {
    const q = quantize(f, dtype);
    parts.push(q.bytes);
    allSpecs.push({ name: `quantized_${dtype}`, shape: [3, 4], dtype: 'float32', quantization: q.quantization });
  }
  const qi = quantize(Float32Array.from([-4, 0, 9, 250]), 'uint8');
  parts.push(qi.bytes);
  allSpecs.push({ name: 'quantized_int32', shape: [4], dtype: 'int32', quantization: qi.quantization });
  const total = parts.reduce((a, p) => a + p.length, 0);
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const p of parts) { bytes.set(p, at); at += p.length; }
  const half = Math.floor(total / 2);
  fs.writeFileSync(path.join(dir, 'group1-shard1of2.bin'), bytes.slice(0, half));
  fs.writeFileSync(path.join(dir, 'group1-shard2of2.bin'), bytes.slice(half));
  const manifest = [{ paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: allSpecs }];
  fs.writeFileSync(path.join(dir, 'weights.json'), JSON.stringify({ weightsManifest: manifest }));
  const decoded = tf.io.decodeWeights(bytes.buffer, allSpecs);
  const expected = {};
  for (const spec of allSpecs) expected[spec.name] = { dtype: spec.dtype, shape: spec.shape, values: round(await decoded[spec.name].data()).map(Number) };
  fs.writeFileSync(path.join(dir, 'expected.json'), JSON.stringify({ generated_by: `@tensorflow/tfjs ${tf.version.tfjs} (tests/tfjs/models.mjs)`, weights: expected }));
  console.log(`weights/dtypes: ${allSpecs.map(s => s.name).join(' ')}`);
}

// 6. Oracles: TF's SAME padding (odd pixel at the bottom/right) for conv and pools on odd sizes; half-pixel bilinear resize.
{
  const dir = path.join(root, 'oracle');
  fs.mkdirSync(dir, { recursive: true });
  const next = rng(11);
  const cases = [];
  const convCases = [
    { input: [1, 7, 7, 2], kernel: [3, 3], strides: [2, 2], dilation: [1, 1], outChannels: 3 },
    { input: [1, 7, 8, 2], kernel: [4, 4], strides: [2, 2], dilation: [1, 1], outChannels: 2 },
    { input: [2, 9, 5, 1], kernel: [2, 2], strides: [3, 2], dilation: [1, 1], outChannels: 2 },
    { input: [1, 6, 6, 2], kernel: [2, 3], strides: [1, 1], dilation: [1, 1], outChannels: 2 },
    { input: [1, 9, 9, 1], kernel: [3, 3], strides: [1, 1], dilation: [2, 2], outChannels: 2 },
    { input: [1, 5, 5, 3], kernel: [5, 5], strides: [4, 4], dilation: [1, 1], outChannels: 1 },
  ];
  for (const c of convCases) {
    const x = uniform(next, c.input.reduce((a, b) => a * b, 1), -1, 1);
    const kShape = [...c.kernel, c.input[3], c.outChannels];
    const k = uniform(next, kShape.reduce((a, b) => a * b, 1), -1, 1);
    const y = tf.conv2d(tf.tensor(x, c.input), tf.tensor(k, kShape), c.strides, 'same', 'NHWC', c.dilation);
    cases.push({ op: 'conv2d', padding: 'same', input_shape: c.input, input: round(x), kernel_shape: kShape, kernel: round(k),
      strides: c.strides, dilation: c.dilation, output_shape: y.shape, output: round(await y.data()) });
  }
  const poolCases = [
    { input: [1, 7, 7, 2], pool: [3, 3], strides: [2, 2] },
    { input: [1, 7, 8, 1], pool: [2, 2], strides: [2, 2] },
    { input: [2, 5, 9, 2], pool: [3, 2], strides: [2, 3] },
    { input: [1, 6, 6, 1], pool: [4, 4], strides: [1, 1] },
  ];
  for (const c of poolCases) {
    const x = uniform(next, c.input.reduce((a, b) => a * b, 1), -1, 1);
    for (const op of ['max_pool', 'avg_pool']) {
      const fn = op === 'max_pool' ? tf.maxPool : tf.avgPool;
      const y = fn(tf.tensor(x, c.input), c.pool, c.strides, 'same');
      cases.push({ op, padding: 'same', input_shape: c.input, input: round(x), pool_size: c.pool, strides: c.strides,
        output_shape: y.shape, output: round(await y.data()) });
    }
  }
  fs.writeFileSync(path.join(dir, 'same_padding.json'), JSON.stringify({ generated_by: `@tensorflow/tfjs ${tf.version.tfjs} (tests/tfjs/models.mjs)`, cases }));
  const resizes = [];
  for (const [from, to] of [[[5, 7, 2], [9, 4]], [[8, 8, 1], [3, 5]], [[4, 4, 3], [16, 16]], [[7, 3, 1], [7, 6]], [[2, 9, 2], [5, 2]]]) {
    const x = uniform(next, from.reduce((a, b) => a * b, 1), 0, 255);
    const y = tf.image.resizeBilinear(tf.tensor(x, [1, ...from]), to, false, true);
    resizes.push({ input_shape: from, input: round(x), size: to, output_shape: y.shape.slice(1), output: round(await y.data()) });
  }
  fs.writeFileSync(path.join(dir, 'resize_bilinear.json'), JSON.stringify({ generated_by: `@tensorflow/tfjs ${tf.version.tfjs} (tests/tfjs/models.mjs), tf.image.resizeBilinear(alignCorners=false, halfPixelCenters=true)`, cases: resizes }));
  console.log(`oracle: ${cases.length} padding cases, ${resizes.length} resizes`);
}
