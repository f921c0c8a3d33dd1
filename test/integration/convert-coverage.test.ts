// One row per entry of the coverage table (src/convert/layer-classes.ts): a tiny model using the class is written
// as real Keras files (Keras 2 .h5, Keras 3 .keras, Keras 3 .h5, as the class exists), converted, loaded in plain
// @tensorflow/tfjs on the cpu backend, and checked against an independent plain-JS forward pass (≤ 1e-4) and its
// weights bit for bit; dropped layers must leave a note; refused ones one error naming the class and the reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { convertKeras, fileModelHandler } from '../../src/convert/index.js';
import { ACTIVATIONS, LAYER_CLASSES, type KerasMajors } from '../../src/convert/layer-classes.js';
import { registerCustomLayers } from '../../src/handler/custom-layers.js';
import { LambdaMlError } from '../../src/lib/errors.js';
import { referenceForward, nd, type Nd } from '../helpers/keras-reference.js';
import { functional, sequential, SpecBuilder, type Built, type InputDef } from '../helpers/keras-specs.js';
import { writeKerasSpec, type SpecFormat, type SpecWeight } from '../helpers/keras-writer.js';

tf.env().set('PROD', true);
await tf.setBackend('cpu');

type Build = (b: SpecBuilder, major: number) => Built;

const img = (name = 'image', shape: number[] = [5, 5, 3]): InputDef => ({ name, shape });
const vec = (n: number, name = 'input'): InputDef => ({ name, shape: [n] });
const seqIn = (steps: number, features: number): InputDef => ({ name: 'input', shape: [steps, features] });
const head = (b: SpecBuilder, inputs: number, units = 3) => ({
  cls: 'Dense',
  name: 'head',
  config: { units, activation: 'linear' },
  weights: b.dense(inputs, units),
});
const CONV = {
  kernel_size: [3, 3],
  strides: [1, 1],
  padding: 'same',
  dilation_rate: [1, 1],
  activation: 'relu',
  use_bias: true,
};
const conv2d = (b: SpecBuilder, name: string, cin: number, filters: number, config: Record<string, unknown> = {}) => ({
  cls: 'Conv2D',
  name,
  config: { filters, ...CONV, ...config },
  weights: [b.w('kernel', [3, 3, cin, filters]), b.w('bias', [filters])],
});

/** Keras 2 and Keras 3 weight names/groups of an RNN cell's weights. */
const cellWeights = (
  b: SpecBuilder,
  input: number,
  units: number,
  gates: number,
  cell: string,
  group = 'cell',
  biasShape?: number[],
): SpecWeight[] => [
  b.w('kernel', [input, gates * units], -0.5, 0.5, { keras2Name: `${cell}/kernel`, group }),
  b.w('recurrent_kernel', [units, gates * units], -0.5, 0.5, { keras2Name: `${cell}/recurrent_kernel`, group }),
  b.w('bias', biasShape ?? [gates * units], -0.5, 0.5, { keras2Name: `${cell}/bias`, group }),
];

/** Builders for the as-is, rewritten and custom rows (dropped and refused rows share generic ones). */
const BUILDERS: Record<string, Build> = {
  Sequential: (b) =>
    sequential(vec(4), [
      { cls: 'Dense', name: 'd1', config: { units: 5, activation: 'relu' }, weights: b.dense(4, 5) },
      {
        cls: 'Sequential',
        name: 'inner',
        layers: [{ cls: 'Dense', name: 'd2', config: { units: 3, activation: 'tanh' }, weights: b.dense(5, 3) }],
        inputShape: [5],
      },
    ]),
  Functional: (b) =>
    functional(
      [vec(4)],
      [
        { cls: 'Dense', name: 'a', config: { units: 5, activation: 'relu' }, weights: b.dense(4, 5) },
        {
          cls: 'Sequential',
          name: 'inner',
          inputShape: [5],
          layers: [{ cls: 'Dense', name: 'b', config: { units: 5, activation: 'tanh' }, weights: b.dense(5, 5) }],
        },
        { cls: 'Add', name: 'sum', in: ['a', 'inner'] },
        head(b, 5),
      ],
    ),
  InputLayer: (b) => functional([vec(3)], [head(b, 3)]),
  Dense: (b) =>
    functional(
      [vec(4)],
      [
        {
          cls: 'Dense',
          name: 'dense',
          config: { units: 6, activation: 'relu', use_bias: true },
          weights: b.dense(4, 6),
        },
        { ...head(b, 6), config: { units: 2, use_bias: false }, weights: b.dense(6, 2, false) },
      ],
    ),
  Activation: () => functional([vec(6)], [{ cls: 'Activation', name: 'act', config: { activation: 'tanh' } }]),
  Embedding: (b) =>
    functional(
      [{ name: 'tokens', shape: [4], ints: 7 }],
      [
        {
          cls: 'Embedding',
          name: 'embedding',
          config: { input_dim: 7, output_dim: 3 },
          weights: [b.w('embeddings', [7, 3])],
        },
        { cls: 'Flatten', name: 'flat' },
        head(b, 12),
      ],
    ),
  Masking: (b) =>
    functional(
      [seqIn(3, 2)],
      [{ cls: 'Masking', name: 'mask', config: { mask_value: 0 } }, { cls: 'Flatten', name: 'flat' }, head(b, 6)],
    ),
  Flatten: (b) => functional([img()], [{ cls: 'Flatten', name: 'flatten' }, head(b, 75)]),
  Reshape: (b) =>
    functional(
      [vec(12)],
      [
        { cls: 'Reshape', name: 'reshape', config: { target_shape: [3, 4] } },
        { cls: 'Flatten', name: 'flat' },
        head(b, 12),
      ],
    ),
  Permute: (b) =>
    functional(
      [seqIn(3, 4)],
      [{ cls: 'Permute', name: 'permute', config: { dims: [2, 1] } }, { cls: 'Flatten', name: 'flat' }, head(b, 12)],
    ),
  RepeatVector: (b) =>
    functional(
      [vec(3)],
      [{ cls: 'RepeatVector', name: 'repeat', config: { n: 2 } }, { cls: 'Flatten', name: 'flat' }, head(b, 6)],
    ),
  Conv1D: (b) =>
    functional(
      [seqIn(7, 3)],
      [
        {
          cls: 'Conv1D',
          name: 'conv',
          config: {
            filters: 4,
            kernel_size: [3],
            strides: [2],
            padding: 'same',
            dilation_rate: [1],
            activation: 'relu',
          },
          weights: [b.w('kernel', [3, 3, 4]), b.w('bias', [4])],
        },
        { cls: 'Flatten', name: 'flat' },
        head(b, 16),
      ],
    ),
  Conv2D: (b) =>
    functional(
      [img('image', [10, 10, 2])],
      [
        conv2d(b, 'conv', 2, 3, { strides: [2, 2] }),
        conv2d(b, 'conv_d', 3, 2, { padding: 'same', dilation_rate: [2, 2], activation: 'linear' }),
        conv2d(b, 'conv_v', 2, 2, { padding: 'valid', kernel_size: [3, 3] }),
      ],
    ),
  Conv3D: (b) =>
    functional(
      [{ name: 'vol', shape: [4, 4, 4, 2] }],
      [
        {
          cls: 'Conv3D',
          name: 'conv3d',
          config: {
            filters: 2,
            kernel_size: [2, 2, 2],
            strides: [1, 1, 1],
            padding: 'valid',
            dilation_rate: [1, 1, 1],
            activation: 'linear',
          },
          weights: [b.w('kernel', [2, 2, 2, 2, 2]), b.w('bias', [2])],
        },
      ],
    ),
  Conv2DTranspose: (b) =>
    functional(
      [img('image', [3, 3, 2])],
      [
        {
          cls: 'Conv2DTranspose',
          name: 'deconv',
          config: {
            filters: 3,
            kernel_size: [3, 3],
            strides: [2, 2],
            padding: 'same',
            dilation_rate: [1, 1],
            activation: 'linear',
          },
          weights: [b.w('kernel', [3, 3, 3, 2]), b.w('bias', [3])],
        },
        {
          cls: 'Conv2DTranspose',
          name: 'deconv_v',
          config: {
            filters: 2,
            kernel_size: [2, 2],
            strides: [1, 1],
            padding: 'valid',
            dilation_rate: [1, 1],
            activation: 'linear',
          },
          weights: [b.w('kernel', [2, 2, 2, 3]), b.w('bias', [2])],
        },
      ],
    ),
  Conv3DTranspose: (b) =>
    functional(
      [{ name: 'vol', shape: [2, 2, 2, 2] }],
      [
        {
          cls: 'Conv3DTranspose',
          name: 'deconv3d',
          config: {
            filters: 2,
            kernel_size: [2, 2, 2],
            strides: [2, 2, 2],
            padding: 'valid',
            dilation_rate: [1, 1, 1],
            activation: 'linear',
          },
          weights: [b.w('kernel', [2, 2, 2, 2, 2]), b.w('bias', [2])],
        },
      ],
    ),
  SeparableConv2D: (b) =>
    functional(
      [img('image', [5, 5, 2])],
      [
        {
          cls: 'SeparableConv2D',
          name: 'sep',
          config: {
            filters: 3,
            kernel_size: [3, 3],
            strides: [1, 1],
            padding: 'same',
            depth_multiplier: 2,
            dilation_rate: [1, 1],
            activation: 'relu',
          },
          weights: [b.w('depthwise_kernel', [3, 3, 2, 2]), b.w('pointwise_kernel', [1, 1, 4, 3]), b.w('bias', [3])],
        },
      ],
    ),
  DepthwiseConv2D: (b) =>
    functional(
      [img('image', [5, 5, 2])],
      [
        {
          cls: 'DepthwiseConv2D',
          name: 'dw',
          config: {
            kernel_size: [3, 3],
            strides: [2, 2],
            padding: 'same',
            depth_multiplier: 2,
            dilation_rate: [1, 1],
            activation: 'relu6',
            use_bias: true,
          },
          weights: [b.w('depthwise_kernel', [3, 3, 2, 2]), b.w('bias', [4])],
        },
      ],
    ),
  ...Object.fromEntries(
    ['1', '2', '3'].flatMap((rank) =>
      ['Max', 'Average'].map((kind): [string, Build] => [
        `${kind}Pooling${rank}D`,
        () => {
          const r = Number(rank);
          const shape = r === 1 ? [7, 2] : r === 2 ? [5, 6, 2] : [4, 5, 4, 2];
          return functional(
            [{ name: 'x', shape }],
            [
              {
                cls: `${kind}Pooling${rank}D`,
                name: 'pool',
                config: {
                  pool_size: Array(r).fill(2),
                  strides: Array(r).fill(2),
                  padding: 'same',
                  data_format: 'channels_last',
                },
              },
              {
                cls: `${kind}Pooling${rank}D`,
                name: 'pool_valid',
                config: {
                  pool_size: Array(r).fill(2),
                  strides: Array(r).fill(1),
                  padding: 'valid',
                  data_format: 'channels_last',
                },
              },
            ],
          );
        },
      ]),
    ),
  ),
  ...Object.fromEntries(
    ['Max', 'Average'].flatMap((kind) =>
      ['1', '2'].map((rank): [string, Build] => [
        `Global${kind}Pooling${rank}D`,
        (b) =>
          functional(
            [{ name: 'x', shape: rank === '1' ? [5, 3] : [4, 4, 3] }],
            [{ cls: `Global${kind}Pooling${rank}D`, name: 'gp', config: { data_format: 'channels_last' } }, head(b, 3)],
          ),
      ]),
    ),
  ),
  Cropping2D: () =>
    functional(
      [img('image', [6, 7, 2])],
      [
        {
          cls: 'Cropping2D',
          name: 'crop',
          config: {
            cropping: [
              [1, 2],
              [0, 3],
            ],
            data_format: 'channels_last',
          },
        },
      ],
    ),
  ZeroPadding2D: () =>
    functional(
      [img('image', [3, 3, 2])],
      [
        {
          cls: 'ZeroPadding2D',
          name: 'pad',
          config: {
            padding: [
              [1, 0],
              [2, 1],
            ],
            data_format: 'channels_last',
          },
        },
      ],
    ),
  UpSampling2D: () =>
    functional(
      [img('image', [3, 4, 2])],
      [
        {
          cls: 'UpSampling2D',
          name: 'up',
          config: { size: [2, 3], interpolation: 'nearest', data_format: 'channels_last' },
        },
      ],
    ),
  BatchNormalization: (b) =>
    functional(
      [img()],
      [
        {
          cls: 'BatchNormalization',
          name: 'bn',
          config: { axis: -1, epsilon: 0.001, momentum: 0.99, center: true, scale: true },
          weights: b.bn(3),
        },
        {
          cls: 'BatchNormalization',
          name: 'bn_plain',
          config: { axis: -1, epsilon: 0.01, momentum: 0.99, center: false, scale: false },
          weights: b.bn(3).slice(2),
        },
      ],
    ),
  LayerNormalization: (b) =>
    functional(
      [seqIn(3, 4)],
      [
        {
          cls: 'LayerNormalization',
          name: 'ln',
          config: { axis: [-1], epsilon: 0.001, center: true, scale: true },
          weights: [b.w('gamma', [4], 0.5, 1.5), b.w('beta', [4])],
        },
      ],
    ),
  ReLU: () =>
    functional([vec(8)], [{ cls: 'ReLU', name: 'relu', config: { max_value: 0.5, negative_slope: 0, threshold: 0 } }]),
  LeakyReLU: () => functional([vec(8)], [{ cls: 'LeakyReLU', name: 'leaky', config: { alpha: 0.1 } }]),
  PReLU: (b) =>
    functional(
      [img('image', [2, 2, 3])],
      [{ cls: 'PReLU', name: 'prelu', config: { shared_axes: [1, 2] }, weights: [b.w('alpha', [1, 1, 3])] }],
    ),
  ELU: () => functional([vec(8)], [{ cls: 'ELU', name: 'elu', config: { alpha: 1.0 } }]),
  ThresholdedReLU: () => functional([vec(8)], [{ cls: 'ThresholdedReLU', name: 'thr', config: { theta: 0.3 } }]),
  Softmax: () => functional([seqIn(2, 4)], [{ cls: 'Softmax', name: 'softmax', config: { axis: -1 } }]),
  ...Object.fromEntries(
    ['Add', 'Multiply', 'Average', 'Maximum', 'Minimum'].map((cls): [string, Build] => [
      cls,
      (b) =>
        functional(
          [vec(4, 'a'), vec(4, 'b')],
          [
            { cls: 'Dense', name: 'da', in: ['a'], config: { units: 3 }, weights: b.dense(4, 3) },
            { cls: 'Dense', name: 'db', in: ['b'], config: { units: 3 }, weights: b.dense(4, 3) },
            { cls, name: 'merge', in: ['da', 'db'] },
          ],
        ),
    ]),
  ),
  Concatenate: (b) =>
    functional(
      [vec(4, 'a'), vec(2, 'b')],
      [
        { cls: 'Dense', name: 'da', in: ['a'], config: { units: 3 }, weights: b.dense(4, 3) },
        { cls: 'Concatenate', name: 'cat', in: ['da', 'b'], config: { axis: -1 } },
      ],
    ),
  Dot: (b) =>
    functional(
      [vec(4, 'a'), vec(4, 'b')],
      [
        { cls: 'Dense', name: 'da', in: ['a'], config: { units: 3 }, weights: b.dense(4, 3) },
        { cls: 'Dense', name: 'db', in: ['b'], config: { units: 3 }, weights: b.dense(4, 3) },
        { cls: 'Dot', name: 'dot', in: ['da', 'db'], config: { axes: 1, normalize: false } },
      ],
    ),
  SimpleRNN: (b) =>
    functional(
      [seqIn(3, 2)],
      [
        {
          cls: 'SimpleRNN',
          name: 'rnn',
          config: { units: 3, activation: 'tanh', return_sequences: true },
          weights: cellWeights(b, 2, 3, 1, 'simple_rnn_cell'),
        },
      ],
    ),
  LSTM: (b) =>
    functional(
      [seqIn(4, 2)],
      [
        {
          cls: 'LSTM',
          name: 'lstm',
          config: { units: 3, activation: 'tanh', recurrent_activation: 'sigmoid' },
          weights: cellWeights(b, 2, 3, 4, 'lstm_cell'),
        },
      ],
    ),
  GRU: (b) =>
    functional(
      [seqIn(4, 2)],
      [
        {
          cls: 'GRU',
          name: 'gru',
          config: {
            units: 3,
            activation: 'tanh',
            recurrent_activation: 'sigmoid',
            reset_after: false,
            return_sequences: true,
          },
          weights: cellWeights(b, 2, 3, 3, 'gru_cell'),
        },
        {
          cls: 'GRU',
          name: 'gru_v1',
          config: { units: 2, activation: 'tanh', recurrent_activation: 'sigmoid', reset_after: false },
          weights: cellWeights(b, 3, 2, 3, 'gru_cell'),
        },
      ],
    ),
  RNN: (b) =>
    functional(
      [seqIn(3, 2)],
      [
        {
          cls: 'RNN',
          name: 'rnn',
          config: {
            cell: {
              class_name: 'LSTMCell',
              config: {
                name: 'lstm_cell',
                units: 3,
                activation: 'tanh',
                recurrent_activation: 'sigmoid',
                use_bias: true,
              },
            },
          },
          weights: cellWeights(b, 2, 3, 4, 'lstm_cell'),
        },
      ],
    ),
  SimpleRNNCell: (b) =>
    functional(
      [seqIn(3, 2)],
      [
        {
          cls: 'RNN',
          name: 'rnn',
          config: {
            cell: {
              class_name: 'SimpleRNNCell',
              config: { name: 'simple_rnn_cell', units: 3, activation: 'tanh', use_bias: true },
            },
          },
          weights: cellWeights(b, 2, 3, 1, 'simple_rnn_cell'),
        },
      ],
    ),
  LSTMCell: (b) => BUILDERS.RNN(b, 2),
  GRUCell: (b) =>
    functional(
      [seqIn(3, 2)],
      [
        {
          cls: 'RNN',
          name: 'rnn',
          config: {
            cell: {
              class_name: 'GRUCell',
              config: {
                name: 'gru_cell',
                units: 3,
                activation: 'tanh',
                recurrent_activation: 'sigmoid',
                use_bias: true,
                reset_after: false,
              },
            },
          },
          weights: cellWeights(b, 2, 3, 3, 'gru_cell'),
        },
      ],
    ),
  StackedRNNCells: (b) =>
    functional(
      [seqIn(3, 2)],
      [
        {
          cls: 'RNN',
          name: 'rnn',
          config: {
            cell: {
              class_name: 'StackedRNNCells',
              config: {
                cells: [
                  {
                    class_name: 'LSTMCell',
                    config: {
                      name: 'lstm_cell',
                      units: 3,
                      activation: 'tanh',
                      recurrent_activation: 'sigmoid',
                      use_bias: true,
                    },
                  },
                  {
                    class_name: 'LSTMCell',
                    config: {
                      name: 'lstm_cell_1',
                      units: 2,
                      activation: 'tanh',
                      recurrent_activation: 'sigmoid',
                      use_bias: true,
                    },
                  },
                ],
              },
            },
          },
          weights: [
            ...cellWeights(b, 2, 3, 4, 'stacked_rnn_cells/lstm_cell', 'cell/cells/lstm_cell'),
            ...cellWeights(b, 3, 2, 4, 'stacked_rnn_cells/lstm_cell_1', 'cell/cells/lstm_cell_1'),
          ],
        },
      ],
    ),
  ConvLSTM2D: (b, major) =>
    functional(
      [{ name: 'clip', shape: [2, 4, 4, 2] }],
      [
        {
          cls: 'ConvLSTM2D',
          name: 'convlstm',
          config: {
            filters: 2,
            kernel_size: [3, 3],
            strides: [1, 1],
            padding: 'same',
            dilation_rate: [1, 1],
            activation: 'tanh',
            recurrent_activation: major === 2 ? 'hard_sigmoid' : 'sigmoid',
            return_sequences: false,
          },
          weights: [
            b.w('kernel', [3, 3, 2, 8], -0.5, 0.5, { group: 'cell' }),
            b.w('recurrent_kernel', [3, 3, 2, 8], -0.5, 0.5, { group: 'cell' }),
            b.w('bias', [8], -0.5, 0.5, { group: 'cell' }),
          ],
        },
      ],
    ),
  Bidirectional: (b) =>
    functional(
      [seqIn(3, 2)],
      [
        {
          cls: 'Bidirectional',
          name: 'bi',
          config: {
            merge_mode: 'concat',
            layer: {
              class_name: 'LSTM',
              config: {
                name: 'lstm',
                units: 2,
                activation: 'tanh',
                recurrent_activation: 'sigmoid',
                return_sequences: true,
              },
            },
          },
          weights: [
            ...cellWeights(b, 2, 2, 4, 'forward_lstm/lstm_cell', 'forward_layer/cell'),
            ...cellWeights(b, 2, 2, 4, 'backward_lstm/lstm_cell', 'backward_layer/cell'),
          ],
        },
      ],
    ),
  TimeDistributed: (b) =>
    functional(
      [seqIn(3, 4)],
      [
        {
          cls: 'TimeDistributed',
          name: 'td',
          config: { layer: { class_name: 'Dense', config: { name: 'dense', units: 2, activation: 'relu' } } },
          weights: [
            b.w('kernel', [4, 2], -0.5, 0.5, { group: 'layer' }),
            b.w('bias', [2], -0.5, 0.5, { group: 'layer' }),
          ],
        },
      ],
    ),
  Rescaling: () =>
    functional([img()], [{ cls: 'Rescaling', name: 'rescale', config: { scale: 1 / 127.5, offset: -1 } }]),

  // rewritten
  Subtract: (b) =>
    functional(
      [vec(4, 'a'), vec(4, 'b')],
      [
        { cls: 'Dense', name: 'da', in: ['a'], config: { units: 3 }, weights: b.dense(4, 3) },
        { cls: 'Dense', name: 'db', in: ['b'], config: { units: 3 }, weights: b.dense(4, 3) },
        { cls: 'Subtract', name: 'diff', in: ['da', 'db'] },
        head(b, 3),
      ],
    ),
  Normalization: (b) =>
    functional(
      [img()],
      [
        {
          cls: 'Normalization',
          name: 'norm',
          config: { axis: [-1], invert: false, mean: null, variance: null },
          weights: [
            b.w('mean', [3]),
            b.w('variance', [3], 0.1, 2),
            { name: 'count', shape: [], values: Int32Array.of(10) },
          ],
        },
        {
          cls: 'Normalization',
          name: 'norm_all',
          config: { axis: [], invert: false, mean: null, variance: null },
          weights: [
            b.w('mean', []),
            b.w('variance', [], 0.5, 1),
            { name: 'count', shape: [], values: Int32Array.of(10) },
          ],
        },
        {
          cls: 'Normalization',
          name: 'denorm',
          config: { axis: [-1], invert: true, mean: [0.5, -0.2, 0.1], variance: [4, 0.25, 1e-20] },
        },
      ],
    ),
  CenterCrop: (b) =>
    functional(
      [img('image', [7, 8, 2])],
      [
        { cls: 'CenterCrop', name: 'crop', config: { height: 4, width: 5 } },
        { cls: 'CenterCrop', name: 'grow', config: { height: 6, width: 5 } },
        { cls: 'Flatten', name: 'flat' },
        head(b, 60),
      ],
    ),
  TFOpLambda: (b) =>
    functional(
      [img('image', [3, 3, 3])],
      [
        {
          cls: 'TFOpLambda',
          name: 'tf.math.truediv',
          config: { function: 'math.truediv' },
          kwargs: { y: 127.5, name: null },
        },
        {
          cls: 'TFOpLambda',
          name: 'tf.math.subtract',
          config: { function: 'math.subtract' },
          kwargs: { y: 1.0, name: null },
        },
        {
          cls: 'TFOpLambda',
          name: 'tf.nn.bias_add',
          config: { function: 'nn.bias_add' },
          kwargs: { bias: [-0.1, 0.2, 0.3], data_format: null },
        },
        {
          cls: 'TFOpLambda',
          name: 'tf.math.multiply',
          config: { function: 'math.multiply' },
          kwargs: { y: [2, 0.5, -1], name: null },
        },
        {
          cls: 'TFOpLambda',
          name: 'tf.math.subtract_1',
          config: { function: 'math.subtract' },
          constantFirst: 1.0,
          kwargs: { y: ['tf.math.multiply', 0, 0], name: null },
        },
        {
          cls: 'TFOpLambda',
          name: 'tf.__operators__.add',
          config: { function: '__operators__.add' },
          kwargs: { y: ['tf.math.truediv', 0, 0], name: null },
        },
        {
          cls: 'TFOpLambda',
          name: 'tf.math.multiply_1',
          config: { function: 'math.multiply' },
          kwargs: { y: ['tf.nn.bias_add', 0, 0], name: null },
        },
        {
          cls: 'TFOpLambda',
          name: 'tf.math.subtract_2',
          config: { function: 'math.subtract' },
          kwargs: { y: ['image', 0, 0], name: null },
        },
        { cls: 'Flatten', name: 'flat' },
        head(b, 27),
      ],
    ),
  SlicingOpLambda: (b) =>
    functional(
      [img('image', [3, 3, 3])],
      [
        {
          cls: 'SlicingOpLambda',
          name: 'tf.__operators__.getitem',
          config: { function: '__operators__.getitem' },
          kwargs: { slice_spec: [{ class_name: '__ellipsis__' }, { start: null, stop: null, step: -1 }] },
        },
        conv2d(b, 'conv', 3, 2),
      ],
    ),
  ...Object.fromEntries(
    ['Add', 'Subtract', 'Multiply', 'TrueDivide', 'Divide'].map((op): [string, Build] => [
      `ops.${op}`,
      (b) =>
        functional(
          [vec(4, 'x')],
          [
            { cls: `ops.${op}`, name: 'op_const', kwargs: { y: 2.5 } },
            ...(op === 'TrueDivide' || op === 'Divide'
              ? []
              : [
                  { cls: `ops.${op}`, name: 'const_op', constantFirst: 0.75, kwargs: { y: ['op_const', 0, 0] } },
                  { cls: `ops.${op}`, name: 'op_tensors', kwargs: { y: ['x', 0, 0] } },
                ]),
            head(b, 4),
          ],
        ),
    ]),
  ),

  // custom
  Resizing: (b) =>
    functional(
      [img('image', [6, 8, 2])],
      [
        {
          cls: 'Resizing',
          name: 'resize',
          config: { height: 4, width: 3, interpolation: 'bilinear', crop_to_aspect_ratio: false },
        },
        {
          cls: 'Resizing',
          name: 'resize_crop',
          config: { height: 5, width: 2, interpolation: 'nearest', crop_to_aspect_ratio: true },
        },
        {
          cls: 'Resizing',
          name: 'resize_same',
          config: { height: 5, width: 2, interpolation: 'bilinear', crop_to_aspect_ratio: false },
        },
        { cls: 'Flatten', name: 'flat' },
        head(b, 20),
      ],
    ),
  RandomCrop: (b, major) =>
    major === 2
      ? functional(
          [img('image', [6, 8, 2])],
          [
            { cls: 'RandomCrop', name: 'crop', config: { height: 4, width: 4, seed: null } },
            { cls: 'Flatten', name: 'flat' },
            head(b, 32),
          ],
        )
      : dropped('RandomCrop')(b, major),
};

/**
 * A dropped class: the first layer of a Sequential (holding the input shape, as TF tutorials write it), or in a
 * Functional.
 */
const dropped =
  (cls: string): Build =>
  (b, major) => {
    const config = /Random|Mix|AugMix|RandAugment/.test(cls)
      ? { seed: null, factor: 0.2 }
      : /Dropout/.test(cls)
        ? { rate: 0.5 }
        : /Noise/.test(cls)
          ? { stddev: 0.1 }
          : {};
    const gap = { cls: 'GlobalAveragePooling2D', name: 'gap' };
    return major === 2 && !/Spatial|Gaussian/.test(cls)
      ? sequential(img(), [{ cls, name: 'aug', config }, conv2d(b, 'conv', 3, 2), gap])
      : functional([img()], [conv2d(b, 'conv', 3, 2), { cls, name: 'aug', config }, gap, head(b, 2)]);
  };

const FORMATS: Record<KerasMajors, SpecFormat[]> = {
  '2': ['keras2-h5'],
  '3': ['keras3-keras', 'keras3-h5'],
  '2+3': ['keras2-h5', 'keras3-keras', 'keras3-h5'],
};
const majorOf = (format: SpecFormat) => (format === 'keras2-h5' ? 2 : 3);
const EXT: Record<SpecFormat, string> = { 'keras2-h5': 'k2.h5', 'keras3-keras': 'keras', 'keras3-h5': 'k3.h5' };

registerCustomLayers(tf);

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'lambda-ml-coverage-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const toNd = (values: Float32Array, input: InputDef): Nd => nd([2, ...input.shape], values);

/** Converts a spec written in `format`; checks the output against the reference and the copied weights bit for bit. */
async function convertAndCheck(built: Built, format: SpecFormat, seed: number): Promise<{ notes: readonly string[] }> {
  await tf.setBackend('cpu');
  return withDir(async (dir) => {
    const file = join(dir, `model.${EXT[format]}`);
    await writeKerasSpec(file, format, built.spec);
    const report = await convertKeras(file, join(dir, 'out'));
    const model = await tf.loadLayersModel(fileModelHandler(join(dir, 'out')));
    try {
      const random = new SpecBuilder(seed);
      const inputs = built.inputs.map((input) => random.values(input));
      const tensors = inputs.map((values, index) => tf.tensor(values, [2, ...built.inputs[index].shape]));
      const got = [model.predict(tensors.length === 1 ? tensors[0] : tensors)].flat() as tf.Tensor[];
      const arrays = inputs.map((values, index) => toNd(values, built.inputs[index]));
      const want = referenceForward(built.spec, arrays, majorOf(format));
      assert.equal(got.length, want.length, 'outputs');
      got.forEach((tensor, index) => {
        assert.deepEqual(tensor.shape, want[index].shape, `output ${index} shape`);
        const data = tensor.dataSync();
        let worst = 0;
        want[index].data.forEach((value, i) => {
          worst = Math.max(worst, Math.abs(data[i] - value) / Math.max(1, Math.abs(value)));
        });
        assert.ok(worst <= 1e-4, `${format}: output ${index} differs from the reference by ${worst}`);
      });
      checkWeights(model, built, report.notes);
      tf.dispose([...tensors, ...got]);
      return { notes: report.notes };
    } finally {
      model.dispose();
    }
  });
}

/** Each stored weight of a layer still there equals the converted one bit for bit (rewrites: via the outputs). */
function checkWeights(model: tf.LayersModel, built: Built, notes: readonly string[]): void {
  for (const [path, weights] of Object.entries(built.spec.weights)) {
    const names = path.split('/');
    const rewritten = notes.some((note) => note.startsWith(`${names[names.length - 1]}:`));
    let layer: tf.layers.Layer | undefined = model;
    for (const name of names) layer = (layer as tf.LayersModel).layers.find((inner) => inner.name === name);
    const got = layer?.getWeights() ?? [];
    if (got.length !== weights.length && rewritten) continue;
    assert.equal(got.length, weights.length, `${path}: weight count`);
    got.forEach((tensor, index) => {
      const want = weights[index].values;
      const data = tensor.dataSync();
      const bytes = (array: ArrayBufferView) => Buffer.from(array.buffer, array.byteOffset, array.byteLength);
      assert.ok(bytes(data).equals(bytes(want)), `${path}: weight ${weights[index].name} not bit-identical`);
    });
  }
}

/** A refused class: one error whose details name the class and the reason. */
async function expectRefused(cls: string, reason: string, format: SpecFormat): Promise<void> {
  const config = cls === 'Lambda' ? { function: ['4wEAAAA=', null, null], function_type: 'lambda' } : {};
  const built = functional(
    [vec(4)],
    [{ cls, name: `my_${cls.toLowerCase()}`, config }, head(new SpecBuilder(1), 4, 2)],
  );
  await withDir(async (dir) => {
    const file = join(dir, `model.${EXT[format]}`);
    await writeKerasSpec(file, format, built.spec);
    const error = await convertKeras(file, join(dir, 'out')).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof LambdaMlError, `${cls}: expected a LambdaMlError, got ${String(error)}`);
    assert.match(error.message, new RegExp(`1 layer cannot be converted: 1 ${cls}$`));
    assert.equal(error.details.length, 1);
    assert.ok(error.details[0].startsWith(`${cls} (1): my_${cls.toLowerCase()}: ${reason}`), error.details[0]);
  });
}

let seed = 100;
for (const entry of LAYER_CLASSES) {
  const rowSeed = seed++;
  const formats = entry.status === 'refused' ? FORMATS[entry.keras].slice(0, 1) : FORMATS[entry.keras];
  test(`${entry.status} ${entry.className} (Keras ${entry.keras}): ${formats.join(', ')}`, async () => {
    for (const format of formats) {
      if (entry.status === 'refused') {
        await expectRefused(entry.className, entry.how, format);
        continue;
      }
      const build = entry.status === 'dropped' ? dropped(entry.className) : BUILDERS[entry.className];
      assert.ok(build, `no builder for ${entry.className}`);
      const built = build(new SpecBuilder(rowSeed), majorOf(format));
      const { notes } = await convertAndCheck(built, format, rowSeed);
      if (entry.status === 'dropped') {
        assert.ok(
          notes.some((note) => note.startsWith('aug:') && note.includes('dropped')),
          `${format}: ${notes.join(' | ')}`,
        );
      }
      if (entry.status === 'rewritten' || entry.status === 'custom') assert.ok(notes.length > 0, `${format}: no note`);
    }
  });
}

for (const activation of ACTIVATIONS) {
  const rowSeed = seed++;
  const formats = FORMATS[activation.keras];
  test(`activation ${activation.name} ${activation.status} (Keras ${activation.keras})`, async () => {
    for (const format of formats) {
      const b = new SpecBuilder(rowSeed);
      const built = sequential(vec(4), [
        { cls: 'Dense', name: 'dense', config: { units: 5, activation: activation.name }, weights: b.dense(4, 5) },
        { cls: 'Activation', name: 'act', config: { activation: activation.name } },
        head(b, 5),
      ]);
      if (activation.status === 'refused') {
        await withDir(async (dir) => {
          const file = join(dir, `model.${EXT[format]}`);
          await writeKerasSpec(file, format, built.spec);
          const error = await convertKeras(file, join(dir, 'out')).then(
            () => undefined,
            (caught: unknown) => caught,
          );
          assert.ok(error instanceof LambdaMlError);
          assert.match(error.message, new RegExp(`2 layers cannot be converted: 2 activation ${activation.name}$`));
          const detail = new RegExp(`^activation ${activation.name} \\(2\\): dense, act: ${activation.how}`);
          assert.match(error.details[0], detail);
        });
        continue;
      }
      const { notes } = await convertAndCheck(built, format, rowSeed);
      if (activation.status === 'rewritten') assert.ok(notes.length >= 2, `${format}: notes ${notes.join(' | ')}`);
      else assert.deepEqual(notes, []);
    }
  });
}
