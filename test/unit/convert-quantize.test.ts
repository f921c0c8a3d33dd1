import { test } from 'node:test';
import assert from 'node:assert/strict';
import { floatToHalf, halfToFloat } from '../../src/convert/float16.js';
import { quantizeUint8 } from '../../src/convert/quantize.js';
import { shardNames } from '../../src/convert/shard-writer.js';
import { toSnakeCase, translateKeras3Config } from '../../src/convert/keras3-config.js';

test('float16: exact values, round to nearest even, overflow, subnormals, NaN', () => {
  const input = Float32Array.from([
    0,
    -0,
    1,
    -2,
    0.5,
    65504,
    1e6,
    5.960464477539063e-8,
    1 + 2 ** -11,
    1 + 3 * 2 ** -11,
    Number.NaN,
  ]);
  const bits = Array.from(floatToHalf(input));
  assert.deepEqual(bits.slice(0, 10), [0x0000, 0x8000, 0x3c00, 0xc000, 0x3800, 0x7bff, 0x7c00, 0x0001, 0x3c00, 0x3c02]);
  assert.ok(Number.isNaN(halfToFloat(Uint16Array.from([bits[10]]))[0]));
  assert.deepEqual(Array.from(halfToFloat(Uint16Array.from([0x3c00, 0xc000, 0x7bff, 0x0001]))), [
    1,
    -2,
    65504,
    2 ** -24,
  ]);
});

test('uint8: affine per tensor, value = q * scale + min, error at most scale / 2', () => {
  const values = Float32Array.from([-1, -0.25, 0, 0.3, 2]);
  const { bytes, quantization } = quantizeUint8(values);
  assert.equal(quantization.dtype, 'uint8');
  if (quantization.dtype !== 'uint8') return;
  assert.equal(quantization.min, -1);
  assert.ok(Math.abs(quantization.scale - 3 / 255) < 1e-12);
  assert.equal(bytes[0], 0);
  assert.equal(bytes[4], 255);
  values.forEach((value, index) =>
    assert.ok(Math.abs(bytes[index] * quantization.scale + quantization.min - value) <= quantization.scale / 2 + 1e-7),
  );
  const constant = quantizeUint8(new Float32Array(4).fill(0.5));
  assert.deepEqual(constant.quantization, { dtype: 'uint8', scale: 1, min: 0.5 });
});

test('shards: at most 4 MiB each, named like the Python converter', () => {
  assert.deepEqual(shardNames(0), []);
  assert.deepEqual(shardNames(4_194_304), ['group1-shard1of1.bin']);
  assert.deepEqual(shardNames(4_194_305), ['group1-shard1of2.bin', 'group1-shard2of2.bin']);
});

test('Keras snake_case layer keys', () => {
  for (const [name, want] of [
    ['Conv2D', 'conv2d'],
    ['ReLU', 're_lu'],
    ['DepthwiseConv2D', 'depthwise_conv2d'],
    ['BatchNormalization', 'batch_normalization'],
    ['ZeroPadding2D', 'zero_padding2d'],
    ['InputLayer', 'input_layer'],
    ['Functional', 'functional'],
  ]) {
    assert.equal(toSnakeCase(name), want);
  }
});

test('Keras 3 config -> Keras 2 shape: dtype policies, batch_shape, {args, kwargs} nodes, single input triple', () => {
  const policy = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
  const tensor = (layer: string) => ({
    class_name: '__keras_tensor__',
    config: { shape: [null, 4], dtype: 'float32', keras_history: [layer, 0, 0] },
  });
  const keras3 = {
    module: 'keras.src.models.functional',
    class_name: 'Functional',
    registered_name: 'Functional',
    config: {
      name: 'm',
      layers: [
        {
          class_name: 'InputLayer',
          name: 'in',
          config: { batch_shape: [null, 4], dtype: 'float32', name: 'in' },
          inbound_nodes: [],
        },
        {
          class_name: 'Dense',
          name: 'd',
          config: {
            name: 'd',
            units: 2,
            dtype: policy,
            kernel_initializer: {
              module: 'keras.initializers',
              class_name: 'GlorotUniform',
              config: { seed: null },
              registered_name: null,
            },
          },
          inbound_nodes: [{ args: [tensor('in')], kwargs: {} }],
        },
        {
          class_name: 'Add',
          name: 'a',
          config: { name: 'a', dtype: policy },
          inbound_nodes: [{ args: [[tensor('d'), tensor('d')]], kwargs: {} }],
        },
      ],
      input_layers: ['in', 0, 0],
      output_layers: [['a', 0, 0]],
    },
  };
  const out = translateKeras3Config(keras3) as {
    class_name: string;
    config: { layers: { config: Record<string, unknown>; inbound_nodes: unknown[] }[]; input_layers: unknown };
  };
  assert.equal(out.class_name, 'Model');
  assert.deepEqual(out.config.input_layers, [['in', 0, 0]]);
  assert.deepEqual(out.config.layers[0].config.batch_input_shape, [null, 4]);
  assert.equal(out.config.layers[1].config.dtype, 'float32');
  assert.deepEqual(out.config.layers[1].config.kernel_initializer, {
    class_name: 'GlorotUniform',
    config: { seed: null },
  });
  assert.deepEqual(out.config.layers[1].inbound_nodes, [[['in', 0, 0, {}]]]);
  assert.deepEqual(out.config.layers[2].inbound_nodes, [
    [
      ['d', 0, 0, {}],
      ['d', 0, 0, {}],
    ],
  ]);
  assert.deepEqual(out.config.layers[0].inbound_nodes, []);
});
