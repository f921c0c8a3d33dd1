// Test/bench helper: a ResNet50-shaped Keras 2 functional model (keras.applications.ResNet50's layer layout:
// 53 Conv2D, 53 BatchNormalization, 16 Add, 25,636,712 parameters, ~102.6 MB float32) with seeded random weights.
// The weights are drawn with variance 1/fan_in and BN statistics near identity, so activations stay finite through
// the 50 layers and the softmax output is not one-hot: top-1 comparisons between backends mean something.
import { SpecBuilder, functional, type Built, type LayerDef } from './keras-specs.js';
import { writeKerasSpec, type SpecWeight } from './keras-writer.js';

interface Options {
  readonly size?: number;
  readonly classes?: number;
  readonly seed?: number;
}

/** Counts the parameters of a built spec (every weight's element count). */
export function parameterCount(built: Built): number {
  return Object.values(built.spec.weights)
    .flat()
    .reduce((total, weight) => total + weight.values.length, 0);
}

/** The ResNet50 layer list: conv1, four stacks of bottleneck blocks (3, 4, 6, 3), global pooling, softmax. */
export function resnet50Spec(options: Options = {}): Built {
  const { size = 224, classes = 1000, seed = 50 } = options;
  const b = new SpecBuilder(seed);
  const layers: LayerDef[] = [];
  const scaled = (name: string, shape: readonly number[], fanIn: number): SpecWeight => {
    const limit = Math.sqrt(3 / fanIn);
    return b.w(name, shape, -limit, limit);
  };
  const conv = (name: string, cin: number, filters: number, k: number, stride: number, from?: string): string => {
    layers.push({
      cls: 'Conv2D',
      name,
      ...(from ? { in: [from] } : {}),
      config: {
        filters,
        kernel_size: [k, k],
        strides: [stride, stride],
        padding: k === 1 || name === 'conv1_conv' ? 'valid' : 'same',
        data_format: 'channels_last',
        dilation_rate: [1, 1],
        groups: 1,
        activation: 'linear',
        use_bias: true,
      },
      weights: [scaled('kernel', [k, k, cin, filters], k * k * cin), b.w('bias', [filters], -0.01, 0.01)],
    });
    return name;
  };
  const bn = (name: string, channels: number): string => {
    layers.push({
      cls: 'BatchNormalization',
      name,
      config: { axis: [3], momentum: 0.99, epsilon: 1.001e-5, center: true, scale: true },
      weights: [
        b.w('gamma', [channels], 0.8, 1.0),
        b.w('beta', [channels], -0.05, 0.05),
        b.w('moving_mean', [channels], -0.05, 0.05),
        b.w('moving_variance', [channels], 0.9, 1.1),
      ],
    });
    return name;
  };
  const relu = (name: string, from?: string): string => {
    layers.push({ cls: 'Activation', name, ...(from ? { in: [from] } : {}), config: { activation: 'relu' } });
    return name;
  };

  layers.push({
    cls: 'ZeroPadding2D',
    name: 'conv1_pad',
    config: {
      padding: [
        [3, 3],
        [3, 3],
      ],
    },
  });
  conv('conv1_conv', 3, 64, 7, 2);
  bn('conv1_bn', 64);
  relu('conv1_relu');
  layers.push({
    cls: 'ZeroPadding2D',
    name: 'pool1_pad',
    config: {
      padding: [
        [1, 1],
        [1, 1],
      ],
    },
  });
  layers.push({
    cls: 'MaxPooling2D',
    name: 'pool1_pool',
    config: { pool_size: [3, 3], strides: [2, 2], padding: 'valid', data_format: 'channels_last' },
  });
  let x = 'pool1_pool';
  let channels = 64;
  const stacks: [number, number, number][] = [
    [64, 3, 1],
    [128, 4, 2],
    [256, 6, 2],
    [512, 3, 2],
  ];
  stacks.forEach(([filters, blocks, firstStride], stackIndex) => {
    for (let block = 1; block <= blocks; block++) {
      const name = `conv${stackIndex + 2}_block${block}`;
      const stride = block === 1 ? firstStride : 1;
      const input = x;
      let shortcut = input;
      if (block === 1) {
        conv(`${name}_0_conv`, channels, 4 * filters, 1, stride, input);
        shortcut = bn(`${name}_0_bn`, 4 * filters);
      }
      conv(`${name}_1_conv`, channels, filters, 1, stride, input);
      bn(`${name}_1_bn`, filters);
      relu(`${name}_1_relu`);
      conv(`${name}_2_conv`, filters, filters, 3, 1);
      bn(`${name}_2_bn`, filters);
      relu(`${name}_2_relu`);
      conv(`${name}_3_conv`, filters, 4 * filters, 1, 1);
      const main = bn(`${name}_3_bn`, 4 * filters);
      layers.push({ cls: 'Add', name: `${name}_add`, in: [shortcut, main] });
      x = relu(`${name}_out`);
      channels = 4 * filters;
    }
  });
  layers.push({ cls: 'GlobalAveragePooling2D', name: 'avg_pool', config: { data_format: 'channels_last' } });
  layers.push({
    cls: 'Dense',
    name: 'predictions',
    config: { units: classes, activation: 'softmax', use_bias: true },
    // A wider logit spread than 1/fan_in, so the softmax has a clear top-1 rather than a near-flat output.
    weights: [scaled('kernel', [channels, classes], channels / 256), b.w('bias', [classes], -0.01, 0.01)],
  });
  return functional([{ name: 'input_1', shape: [size, size, 3], range: [0, 1] }], layers);
}

/** Writes the ResNet50-shaped model as a Keras 2 `.h5` file; returns its spec (for parameter counts and inputs). */
export async function writeResNet50H5(path: string, options: Options = {}): Promise<Built> {
  const built = resnet50Spec(options);
  await writeKerasSpec(path, 'keras2-h5', built.spec);
  return built;
}
