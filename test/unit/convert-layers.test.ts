// The coverage table as data, the config edits (drop, rewire, rewrite) and the one-error-for-everything report,
// without files: prepare-model.ts is pure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { coverageMarkdown, TABLE_BEGIN, TABLE_END } from '../../src/convert/coverage-doc.js';
import { translateKeras3Config } from '../../src/convert/keras3-config.js';
import { ACTIVATIONS, LAYER_CLASSES, findLayerClass, statusCounts } from '../../src/convert/layer-classes.js';
import { prepareModel, type PrepareInput } from '../../src/convert/prepare-model.js';
import { unsupportedError } from '../../src/convert/unsupported.js';
import { LambdaMlError } from '../../src/lib/errors.js';

type Json = Record<string, any>;
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

const layer = (cls: string, name: string, config: Json = {}, inbound?: unknown[][]) => ({
  class_name: cls,
  name,
  config: { name, ...config },
  ...(inbound ? { inbound_nodes: [inbound] } : {}),
});
const input = (name: string, shape: number[]) => ({
  class_name: 'InputLayer',
  name,
  inbound_nodes: [],
  config: { name, batch_input_shape: [null, ...shape], dtype: 'float32' },
});
const model = (layers: Json[], inputs: string[], outputs: unknown[][]) => ({
  class_name: 'Model',
  config: { name: 'model', layers, input_layers: inputs.map((name) => [name, 0, 0]), output_layers: outputs },
});
const prepare = (config: Json, major = 2, extra: Partial<PrepareInput> = {}) =>
  prepareModel({ config, major, stored: () => [], ...extra });

test('docs/convert.md holds the coverage table generated from layer-classes.ts', async () => {
  const doc = await readFile(join(ROOT, 'docs/convert.md'), 'utf8');
  const start = doc.indexOf(TABLE_BEGIN);
  const end = doc.indexOf(TABLE_END);
  assert.ok(start >= 0 && end > start, 'docs/convert.md has the table markers');
  assert.equal(
    doc.slice(start, end + TABLE_END.length),
    coverageMarkdown(),
    'regenerate it: node --import tsx -e ' +
      '"import(\'./src/convert/coverage-doc.ts\').then((m) => console.log(m.coverageMarkdown()))"',
  );
});

test('table: one entry per class and Keras major; as-is classes registered in TF.js; all TF.js classes listed', () => {
  const keys = LAYER_CLASSES.map((entry) => `${entry.className}@${entry.keras}`);
  assert.equal(new Set(keys).size, keys.length, 'duplicate entries');
  const registered = tf.serialization.SerializationMap.getMap().classNameMap;
  for (const entry of LAYER_CLASSES.filter((item) => item.status === 'as-is')) {
    assert.ok(entry.className in registered, `${entry.className} is not a TF.js class`);
  }
  // TF.js layer classes (its registry also holds initializers, optimizers, constraints and activations)
  const tfjsLayers = [
    'Activation',
    'Add',
    'AlphaDropout',
    'Average',
    'AveragePooling1D',
    'AveragePooling2D',
    'AveragePooling3D',
    'BatchNormalization',
    'Bidirectional',
    'CategoryEncoding',
    'CenterCrop',
    'Concatenate',
    'Conv1D',
    'Conv2D',
    'Conv2DTranspose',
    'Conv3D',
    'Conv3DTranspose',
    'ConvLSTM2D',
    'Cropping2D',
    'Dense',
    'DepthwiseConv2D',
    'Dot',
    'Dropout',
    'ELU',
    'Embedding',
    'Flatten',
    'GRU',
    'GRUCell',
    'GaussianDropout',
    'GaussianNoise',
    'GlobalAveragePooling1D',
    'GlobalAveragePooling2D',
    'GlobalMaxPooling1D',
    'GlobalMaxPooling2D',
    'InputLayer',
    'LSTM',
    'LSTMCell',
    'LayerNormalization',
    'LeakyReLU',
    'Masking',
    'MaxPooling1D',
    'MaxPooling2D',
    'MaxPooling3D',
    'Maximum',
    'Minimum',
    'Multiply',
    'PReLU',
    'Permute',
    'RNN',
    'RandomWidth',
    'ReLU',
    'RepeatVector',
    'Rescaling',
    'Reshape',
    'Resizing',
    'SeparableConv2D',
    'SimpleRNN',
    'SimpleRNNCell',
    'Softmax',
    'SpatialDropout1D',
    'StackedRNNCells',
    'ThresholdedReLU',
    'TimeDistributed',
    'UpSampling2D',
    'ZeroPadding2D',
  ];
  for (const name of tfjsLayers) {
    assert.ok(name in registered, `${name} should be a TF.js class`);
    assert.ok(findLayerClass(name, 2) ?? findLayerClass(name, 3), `${name} is missing from the table`);
  }
  const counts = statusCounts();
  assert.equal(
    Object.values(counts).reduce((a, b) => a + b, 0),
    LAYER_CLASSES.length,
  );
  assert.ok(LAYER_CLASSES.filter((entry) => entry.status === 'refused').every((entry) => entry.how.length > 10));
  assert.equal(findLayerClass('RandomCrop', 2)?.status, 'custom');
  assert.equal(findLayerClass('RandomCrop', 3)?.status, 'dropped');
  assert.equal(
    ACTIVATIONS.filter((entry) => entry.name === 'hard_sigmoid')
      .map((entry) => `${entry.keras}:${entry.status}`)
      .join(),
    '2:as-is,3:rewritten',
  );
});

test('a dropped first layer of a Sequential hands its input shape on; the note names it', () => {
  const config = {
    class_name: 'Sequential',
    config: {
      name: 'seq',
      layers: [
        {
          class_name: 'RandomFlip',
          config: { name: 'random_flip', mode: 'horizontal', batch_input_shape: [null, 8, 8, 3], dtype: 'float32' },
        },
        { class_name: 'RandomRotation', config: { name: 'random_rotation', factor: 0.1 } },
        { class_name: 'Conv2D', config: { name: 'conv', filters: 2, kernel_size: [3, 3] } },
        { class_name: 'Dropout', config: { name: 'dropout', rate: 0.2 } },
        { class_name: 'Flatten', config: { name: 'flatten' } },
      ],
    },
  };
  const result = prepare(config);
  assert.deepEqual(result.problems, []);
  const layers = result.modelConfig.config as Json;
  assert.deepEqual(
    layers.layers.map((entry: Json) => entry.config.name),
    ['conv', 'flatten'],
  );
  assert.deepEqual(layers.layers[0].config.batch_input_shape, [null, 8, 8, 3]);
  assert.deepEqual(result.notes, [
    'random_flip: RandomFlip dropped (random augmentation, an identity at inference)',
    'random_rotation: RandomRotation dropped (random augmentation, an identity at inference)',
    'dropout: Dropout dropped (an identity at inference)',
  ]);
});

test("Functional: a dropped layer's consumers get its input; identity submodels go; shared layers per node", () => {
  const config = model(
    [
      input('image', [4, 4, 3]),
      {
        class_name: 'Sequential',
        name: 'augment',
        config: {
          name: 'augment',
          layers: [
            { class_name: 'RandomFlip', config: { name: 'flip', batch_input_shape: [null, 4, 4, 3] } },
            { class_name: 'RandomZoom', config: { name: 'zoom' } },
          ],
        },
        inbound_nodes: [[['image', 0, 0, {}]]],
      },
      layer('Conv2D', 'conv', { filters: 2, kernel_size: [1, 1] }, [['augment', 1, 0, {}]]),
      { ...layer('Dropout', 'drop', { rate: 0.5 }), inbound_nodes: [[['conv', 0, 0, {}]], [['image', 0, 0, {}]]] },
      layer('GaussianNoise', 'noise', { stddev: 0.1 }, [['drop', 0, 0, {}]]),
      layer('Add', 'sum', {}, [
        ['noise', 0, 0, {}],
        ['drop', 1, 0, {}],
      ]),
    ],
    ['image'],
    [
      ['sum', 0, 0],
      ['drop', 1, 0],
    ],
  );
  const result = prepare(config);
  assert.deepEqual(result.problems, []);
  const out = result.modelConfig.config as Json;
  assert.deepEqual(
    out.layers.map((entry: Json) => entry.name),
    ['image', 'conv', 'sum'],
  );
  assert.deepEqual(out.layers[1].inbound_nodes, [[['image', 0, 0, {}]]]);
  assert.deepEqual(out.layers[2].inbound_nodes, [
    [
      ['conv', 0, 0, {}],
      ['image', 0, 0, {}],
    ],
  ]);
  assert.deepEqual(out.output_layers, [
    ['sum', 0, 0],
    ['image', 0, 0],
  ]);
  assert.equal(result.notes[0], 'flip: RandomFlip dropped (random augmentation, an identity at inference)');
  assert.ok(
    result.notes.includes('augment: nested Sequential dropped (every layer in it is an identity at inference)'),
  );
});

test('rewrites: Subtract, TFOpLambda scalars/tensors, Keras 3 silu; branching turns Sequential into Functional', () => {
  const config = model(
    [
      input('x', [3]),
      layer('TFOpLambda', 'tf.math.truediv', { function: 'math.truediv' }, [['x', 0, 0, { y: 127.5, name: null }]]),
      layer('TFOpLambda', 'tf.math.subtract', { function: 'math.subtract' }, [
        ['tf.math.truediv', 0, 0, { y: 1, name: null }],
      ]),
      layer('TFOpLambda', 'tf.math.subtract_1', { function: 'math.subtract' }, [
        ['_CONSTANT_VALUE', -1, 2, { y: ['tf.math.subtract', 0, 0], name: null }],
      ]),
      layer('Subtract', 'diff', {}, [
        ['tf.math.subtract_1', 0, 0, {}],
        ['x', 0, 0, {}],
      ]),
    ],
    ['x'],
    [['diff', 0, 0]],
  );
  const result = prepare(config);
  assert.deepEqual(result.problems, []);
  const layers = (result.modelConfig.config as Json).layers as Json[];
  assert.deepEqual(
    layers.map((entry) => [entry.class_name, entry.name]),
    [
      ['InputLayer', 'x'],
      ['Rescaling', 'tf.math.truediv'],
      ['Rescaling', 'tf.math.subtract'],
      ['Rescaling', 'tf.math.subtract_1'],
      ['Rescaling', 'diff_negate'],
      ['Add', 'diff'],
    ],
  );
  assert.deepEqual([layers[1].config.scale, layers[1].config.offset], [1 / 127.5, 0]);
  assert.deepEqual([layers[2].config.scale, layers[2].config.offset], [1, -1]);
  assert.deepEqual([layers[3].config.scale, layers[3].config.offset], [-1, 2]);
  assert.deepEqual(layers[3].inbound_nodes, [[['tf.math.subtract', 0, 0, {}]]]);
  assert.deepEqual(layers[4].inbound_nodes, [[['x', 0, 0, {}]]]);
  assert.deepEqual(layers[5].inbound_nodes, [
    [
      ['tf.math.subtract_1', 0, 0, {}],
      ['diff_negate', 0, 0, {}],
    ],
  ]);

  const sequential = {
    class_name: 'Sequential',
    config: {
      name: 'seq',
      layers: [
        {
          class_name: 'Dense',
          config: { name: 'dense', units: 4, activation: 'hard_silu', batch_input_shape: [null, 2] },
        },
        { class_name: 'Dense', config: { name: 'out', units: 2, activation: 'silu' } },
      ],
    },
  };
  const rewritten = prepare(sequential, 3);
  assert.equal(rewritten.modelConfig.class_name, 'Model');
  const names = ((rewritten.modelConfig.config as Json).layers as Json[]).map(
    (entry) => `${entry.class_name}:${entry.name}`,
  );
  assert.deepEqual(names, [
    'InputLayer:dense_input',
    'Dense:dense',
    'Rescaling:dense_hard_silu_plus3',
    'ReLU:dense_hard_silu_relu6',
    'Rescaling:dense_hard_silu_div6',
    'Multiply:dense_hard_silu',
    'Dense:out',
  ]);
  const multiply = ((rewritten.modelConfig.config as Json).layers as Json[])[5];
  assert.deepEqual(multiply.inbound_nodes, [
    [
      ['dense', 0, 0, {}],
      ['dense_hard_silu_div6', 0, 0, {}],
    ],
  ]);
  assert.equal(((rewritten.modelConfig.config as Json).layers as Json[])[6].config.activation, 'swish');
  assert.deepEqual(rewritten.notes, [
    'dense: activation hard_silu split into built-in layers after it',
    'out: activation silu -> swish',
  ]);
  // Keras 2's hard_sigmoid is TF.js's: kept
  const keras2 = prepare(
    {
      class_name: 'Sequential',
      config: {
        name: 's',
        layers: [
          { class_name: 'Activation', config: { name: 'a', activation: 'hard_sigmoid', batch_input_shape: [null, 2] } },
        ],
      },
    },
    2,
  );
  assert.deepEqual(keras2.notes, []);
});

test('Normalization: statistics move into BatchNormalization weights; one statistic waits for the shape probe', () => {
  const stored = (path: readonly string[]) =>
    path[0] === 'norm'
      ? [
          { name: 'norm/mean:0', shape: [2], values: Float32Array.of(1, 2) },
          { name: 'norm/variance:0', shape: [2], values: Float32Array.of(4, 0) },
        ]
      : [
          { name: 'all/mean:0', shape: [], values: Float32Array.of(3) },
          { name: 'all/variance:0', shape: [], values: Float32Array.of(9) },
        ];
  const config = model(
    [
      input('x', [2]),
      layer('Normalization', 'norm', { axis: [-1] }, [['x', 0, 0, {}]]),
      layer('Normalization', 'all', { axis: [] }, [['norm', 0, 0, {}]]),
    ],
    ['x'],
    [['all', 0, 0]],
  );
  const first = prepare(config, 2, { stored });
  assert.deepEqual([...first.probes], ['all']);
  assert.equal(((first.modelConfig.config as Json).layers as Json[])[2].class_name, 'LambdaMlProbe');
  const second = prepare(config, 2, { stored, shapes: new Map([['all', [null, 2]]]) });
  assert.deepEqual([...second.probes], []);
  const norm = second.weights.get('norm')!;
  assert.deepEqual(
    norm.map((weight) => weight.name),
    ['gamma', 'beta', 'moving_mean', 'moving_variance'],
  );
  assert.deepEqual(Array.from(norm[2].values), [1, 2]);
  assert.deepEqual(Array.from(norm[3].values), [4, Math.fround(1e-14)]);
  assert.deepEqual(Array.from(second.weights.get('all')![2].values), [3, 3]);
  const bn = ((second.modelConfig.config as Json).layers as Json[])[1];
  assert.deepEqual([bn.class_name, bn.config.epsilon, bn.config.axis], ['BatchNormalization', 0, -1]);
});

test('every problem in one error: classes with counts and names, Lambda and custom advice, "and N more"', () => {
  const config = model(
    [
      input('x', [4]),
      ...['a', 'b', 'c', 'd', 'e', 'f'].map((name, index) =>
        layer('Lambda', `lambda_${name}`, { function: ['4wEAAAA=', null, null] }, [
          [index === 0 ? 'x' : `lambda_${'abcdef'[index - 1]}`, 0, 0, {}],
        ]),
      ),
      {
        class_name: 'MyBlock',
        name: 'my_block',
        config: { units: 3 },
        registered_name: 'Custom>MyBlock',
        inbound_nodes: [[['lambda_f', 0, 0, {}]]],
      },
      layer('TFOpLambda', 'tf.math.exp', { function: 'math.exp' }, [['my_block', 0, 0, {}]]),
      layer('Dense', 'dense', { units: 2, activation: 'celu' }, [['tf.math.exp', 0, 0, {}]]),
    ],
    ['x'],
    [['dense', 0, 0]],
  );
  const result = prepare(config, 3);
  const error = unsupportedError('model.keras', result.problems);
  assert.equal(
    error.message,
    'model.keras: 9 layers cannot be converted: 6 Lambda, 1 MyBlock, 1 TFOpLambda tf.math.exp, 1 activation celu',
  );
  assert.deepEqual(error.details, [
    'Lambda (6): lambda_a, lambda_b, lambda_c, lambda_d and 2 more: holds Python bytecode, ' +
      'which cannot run outside Python; replace it with built-in layers (e.g. ' +
      'Rescaling(scale=1/127.5, offset=-1) for x / 127.5 - 1) and save the model again',
    'MyBlock (1): my_block: is a custom class (not a Keras layer); replace it with built-in ' +
      'Keras layers and save the model again, or register a TF.js layer class of that name ' +
      '(tf.serialization.registerClass) before loading the converted model',
    'TFOpLambda tf.math.exp (1): tf.math.exp: tf.math.exp has no TF.js layer; do it with built-in ' +
      'layers (Rescaling, Add, Multiply) or before calling the model, and save it again',
    'activation celu (1): dense: TF.js has no celu activation; use an activation ' +
      'from the table in docs/convert.md and save the model again',
  ]);
  assert.match(error.hint ?? '', /fix every layer listed above/);
  assert.ok(error instanceof LambdaMlError && !error.message.includes('\n'));
});

test('a subclassed model is named as such (its name one level above config) with the rebuild advice', () => {
  const keras3 = {
    module: '__main__',
    class_name: 'CIFAR10Model',
    config: { trainable: true, dtype: { class_name: 'DTypePolicy', config: { name: 'float32' } } },
    registered_name: 'CIFAR10Model',
    name: 'cifar10_model',
    build_config: { input_shape: [null, 32, 32, 3] },
  };
  const result = prepare(translateKeras3Config(keras3), 3);
  const error = unsupportedError('cifar.keras', result.problems);
  assert.equal(
    error.message,
    'cifar.keras: the model is a subclassed CIFAR10Model (cifar10_model): its ' +
      'architecture is Python code and is not in the file',
  );
  assert.match(
    error.hint ?? '',
    /rebuild it with the Functional API .* or keras\.Sequential, load the trained weights into it, and save it again/,
  );
});

test('options TF.js would ignore are refused, not converted wrongly', () => {
  const config = model(
    [
      input('x', [4]),
      layer('ReLU', 'relu', { negative_slope: 0.1 }, [['x', 0, 0, {}]]),
      layer('ELU', 'elu', { alpha: 0.5 }, [['relu', 0, 0, {}]]),
      layer('Reshape', 'r', { target_shape: [2, 2] }, [['elu', 0, 0, {}]]),
      layer('GRU', 'gru', { units: 2, reset_after: true }, [['r', 0, 0, {}]]),
      layer(
        'Bidirectional',
        'bi',
        { layer: { class_name: 'LSTM', config: { name: 'lstm', units: 2, recurrent_activation: 'hard_sigmoid' } } },
        [['r', 0, 0, {}]],
      ),
    ],
    ['x'],
    [
      ['gru', 0, 0],
      ['bi', 0, 0],
    ],
  );
  const problems = prepare(config, 3).problems.map((problem) => `${problem.group}:${problem.name}`);
  assert.deepEqual(problems, ['ReLU:relu', 'ELU:elu', 'GRU:gru', 'activation hard_sigmoid:bi/lstm']);
});

test('Keras 3 translation: ops nodes, LeakyReLU negative_slope, nested Sequential calls counted from 1', () => {
  const tensor = (name: string, node = 0) => ({
    class_name: '__keras_tensor__',
    config: { shape: [null, 3], dtype: 'float32', keras_history: [name, node, 0] },
  });
  const keras3 = {
    module: 'keras.src.models.functional',
    class_name: 'Functional',
    config: {
      name: 'f',
      layers: [
        {
          module: 'keras.layers',
          class_name: 'InputLayer',
          config: { batch_shape: [null, 3], dtype: 'float32', name: 'x' },
          name: 'x',
          inbound_nodes: [],
        },
        {
          module: 'keras',
          class_name: 'Sequential',
          config: {
            name: 'seq',
            layers: [
              { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, 3], name: 'in' } },
            ],
          },
          name: 'seq',
          inbound_nodes: [{ args: [tensor('x')], kwargs: {} }],
        },
        {
          module: 'keras.src.ops.numpy',
          class_name: 'TrueDivide',
          config: { name: 'true_divide' },
          registered_name: 'TrueDivide',
          name: 'true_divide',
          inbound_nodes: [{ args: [tensor('seq'), 127.5], kwargs: {} }],
        },
        {
          module: 'keras.src.ops.numpy',
          class_name: 'Subtract',
          config: { name: 'subtract' },
          registered_name: 'Subtract',
          name: 'subtract',
          inbound_nodes: [{ args: [1, tensor('true_divide')], kwargs: {} }],
        },
        {
          module: 'keras.layers',
          class_name: 'LeakyReLU',
          config: { name: 'leaky', negative_slope: 0.1 },
          name: 'leaky',
          inbound_nodes: [{ args: [tensor('subtract')], kwargs: {} }],
        },
      ],
      input_layers: ['x', 0, 0],
      output_layers: ['seq', 0, 0],
    },
  };
  const out = translateKeras3Config(keras3);
  const layers = (out.config as Json).layers as Json[];
  assert.equal(out.class_name, 'Model');
  assert.deepEqual(layers[2], {
    class_name: 'ops.TrueDivide',
    config: { name: 'true_divide' },
    name: 'true_divide',
    inbound_nodes: [[['seq', 1, 0, { y: 127.5 }]]],
  });
  assert.deepEqual(layers[3].inbound_nodes, [[['_CONSTANT_VALUE', -1, 1, { y: ['true_divide', 0, 0] }]]]);
  assert.deepEqual(layers[4].config, { name: 'leaky', alpha: 0.1 });
  assert.deepEqual((out.config as Json).output_layers, [['seq', 1, 0]]);
});
