// The Keras layer classes `convert` accepts and how each is converted, as data: the converter looks classes
// up here, docs/convert.md is generated from it, and test/integration/convert-coverage.test.ts has one row
// per entry. Sources: keras/src/layers/__init__.py (Keras 3), keras/layers/__init__.py (tf.keras 2.x),
// tfjs-layers 4.22's registered classes; see docs/design.md (convert).

/** How a Keras layer class becomes TF.js. */
export type LayerStatus = 'as-is' | 'rewritten' | 'dropped' | 'custom' | 'refused';

/** Keras majors that write the class ('2' covers Keras 2.x and tf.keras 2.x). */
export type KerasMajors = '2' | '3' | '2+3';

/** One class of the coverage table. */
export interface LayerClass {
  readonly className: string;
  readonly status: LayerStatus;
  readonly keras: KerasMajors;
  /** Where the class comes from (the Python module that defines it). */
  readonly module: string;
  /** What it becomes (as-is, rewritten, custom), why it is dropped, or why it is refused. */
  readonly how: string;
}

const L = 'keras.layers';
const PRE = 'keras.layers (preprocessing)';
const IDENTITY = 'an identity at inference';
const AUG = 'random augmentation, an identity at inference';
const GRU_HOW = 'TF.js has it (reset_after must be false: TF.js 4.22 has no reset_after, the TF 2 default)';

const asIs = (className: string, keras: KerasMajors = '2+3', how = 'TF.js has it'): LayerClass => ({
  className,
  status: 'as-is',
  keras,
  module: L,
  how,
});
const dropped = (className: string, keras: KerasMajors, how: string, module = L): LayerClass => ({
  className,
  status: 'dropped',
  keras,
  module,
  how,
});
const lacking = (className: string, keras: KerasMajors = '2+3', module = L): LayerClass => ({
  className,
  status: 'refused',
  keras,
  module,
  how: `TF.js 4.22 has no ${className} layer`,
});

/** Every layer class `convert` knows, by status. */
export const LAYER_CLASSES: readonly LayerClass[] = [
  // containers and inputs
  {
    className: 'Sequential',
    status: 'as-is',
    keras: '2+3',
    module: 'keras.models',
    how: 'TF.js has it; nested models included',
  },
  {
    className: 'Functional',
    status: 'as-is',
    keras: '2+3',
    module: 'keras.models',
    how: 'TF.js has it (as Model); nested models included',
  },
  asIs('InputLayer'),
  // core
  asIs('Dense'),
  asIs('Activation', '2+3', 'TF.js has it; activations as in the activation table'),
  asIs('Embedding'),
  asIs('Masking'),
  asIs('Flatten'),
  asIs('Reshape'),
  asIs('Permute'),
  asIs('RepeatVector'),
  // convolution
  asIs('Conv1D'),
  asIs('Conv2D'),
  asIs('Conv3D'),
  asIs('Conv2DTranspose'),
  asIs('Conv3DTranspose'),
  asIs('SeparableConv2D'),
  asIs('DepthwiseConv2D'),
  // pooling
  asIs('MaxPooling1D'),
  asIs('MaxPooling2D'),
  asIs('MaxPooling3D'),
  asIs('AveragePooling1D'),
  asIs('AveragePooling2D'),
  asIs('AveragePooling3D'),
  asIs('GlobalMaxPooling1D'),
  asIs('GlobalMaxPooling2D'),
  asIs('GlobalAveragePooling1D'),
  asIs('GlobalAveragePooling2D'),
  // reshaping
  asIs('Cropping2D'),
  asIs('ZeroPadding2D'),
  asIs('UpSampling2D'),
  // normalisation and activations
  asIs('BatchNormalization'),
  asIs('LayerNormalization'),
  asIs('ReLU', '2+3', 'TF.js has it (negative_slope and threshold must be 0)'),
  asIs('LeakyReLU', '2+3', 'TF.js has it (Keras 3 negative_slope becomes alpha)'),
  asIs('PReLU'),
  asIs('ELU', '2+3', 'TF.js has it (alpha must be 1)'),
  asIs('ThresholdedReLU', '2'),
  asIs('Softmax'),
  // merging
  asIs('Add'),
  asIs('Multiply'),
  asIs('Average'),
  asIs('Maximum'),
  asIs('Minimum'),
  asIs('Concatenate'),
  asIs('Dot'),
  // recurrent
  asIs('SimpleRNN'),
  asIs('LSTM'),
  asIs('GRU', '2+3', GRU_HOW),
  asIs('RNN'),
  asIs('SimpleRNNCell'),
  asIs('LSTMCell'),
  asIs('GRUCell', '2+3', GRU_HOW),
  asIs('StackedRNNCells'),
  asIs('ConvLSTM2D'),
  asIs('Bidirectional'),
  asIs('TimeDistributed'),
  // preprocessing TF.js computes as Keras does
  { className: 'Rescaling', status: 'as-is', keras: '2+3', module: PRE, how: 'TF.js has it' },

  // rewritten into built-in TF.js layers (exact to float rounding)
  {
    className: 'Subtract',
    status: 'rewritten',
    keras: '2+3',
    module: L,
    how: 'Add of the first input and Rescaling(scale=-1) of the second',
  },
  {
    className: 'Normalization',
    status: 'rewritten',
    keras: '2+3',
    module: PRE,
    how: 'BatchNormalization (epsilon 0, moving_variance = max(sqrt(variance), 1e-7)²); over no axis, Rescaling',
  },
  {
    className: 'CenterCrop',
    status: 'rewritten',
    keras: '2+3',
    module: PRE,
    how: "Cropping2D (TF.js's CenterCrop samples the wrong pixels); needs a known input size at least the crop",
  },
  {
    className: 'TFOpLambda',
    status: 'rewritten',
    keras: '2',
    module: 'keras.layers.core.tf_op_layer',
    how:
      'tf.math add/subtract/multiply/truediv/divide and tf.nn.bias_add with a constant become Rescaling; ' +
      'with two tensors, Add/Multiply/Subtract; other ops are refused',
  },
  {
    className: 'SlicingOpLambda',
    status: 'rewritten',
    keras: '2',
    module: 'keras.layers.core.tf_op_layer',
    how: 'x[..., ::-1] (RGB to BGR) becomes a Dense layer holding a permutation; other slices are refused',
  },
  ...['Add', 'Subtract', 'Multiply', 'TrueDivide', 'Divide'].map((name): LayerClass => ({
    className: `ops.${name}`,
    status: 'rewritten',
    keras: '3',
    module: 'keras.src.ops.numpy',
    how:
      'with a constant, Rescaling; with two tensors, Add/Multiply/Subtract ' +
      '(ops.TrueDivide/Divide of two tensors are refused)',
  })),

  // a small custom layer the handler registers (no exact built-in)
  {
    className: 'Resizing',
    status: 'custom',
    keras: '2+3',
    module: PRE,
    how:
      "LambdaMlResizing (TF.js's Resizing uses align_corners, Keras half-pixel centres); " +
      'dropped when the input already has that size',
  },
  {
    className: 'RandomCrop',
    status: 'custom',
    keras: '2',
    module: PRE,
    how:
      'Keras 2 centre-crops and resizes at inference: LambdaMlResizing(crop_to_aspect_ratio); ' +
      'dropped when the input already has that size',
  },

  // identities at inference
  ...[
    'Dropout',
    'SpatialDropout1D',
    'SpatialDropout2D',
    'SpatialDropout3D',
    'AlphaDropout',
    'GaussianDropout',
    'GaussianNoise',
  ].map((name) => dropped(name, '2+3', IDENTITY)),
  dropped('ActivityRegularization', '2+3', 'adds a training loss only; an identity at inference'),
  dropped('Identity', '3', 'an identity'),
  ...['RandomFlip', 'RandomRotation', 'RandomZoom', 'RandomContrast', 'RandomTranslation', 'RandomBrightness'].map(
    (name) => dropped(name, '2+3', AUG, PRE),
  ),
  dropped('RandomCrop', '3', 'Keras 3 returns the input unchanged at inference', PRE),
  dropped('RandomHeight', '2', AUG, PRE),
  dropped('RandomWidth', '2', AUG, PRE),
  ...[
    'RandomColorDegeneration',
    'RandomColorJitter',
    'RandomElasticTransform',
    'RandomErasing',
    'RandomGaussianBlur',
    'RandomGrayscale',
    'RandomHue',
    'RandomInvert',
    'RandomPerspective',
    'RandomPosterization',
    'RandomSaturation',
    'RandomSharpness',
    'RandomShear',
    'AugMix',
    'CutMix',
    'MixUp',
    'RandAugment',
  ].map((name) => dropped(name, '3', AUG, PRE)),

  // refused: the reason is the message
  {
    className: 'Lambda',
    status: 'refused',
    keras: '2+3',
    module: L,
    how: 'holds Python bytecode, which cannot run outside Python',
  },
  ...[
    'Conv1DTranspose',
    'SeparableConv1D',
    'DepthwiseConv1D',
    'Cropping1D',
    'Cropping3D',
    'ZeroPadding1D',
    'ZeroPadding3D',
    'UpSampling1D',
    'UpSampling3D',
    'GlobalMaxPooling3D',
    'GlobalAveragePooling3D',
    'Attention',
    'AdditiveAttention',
    'MultiHeadAttention',
    'UnitNormalization',
    'ConvLSTM1D',
    'ConvLSTM3D',
    'LocallyConnected1D',
    'LocallyConnected2D',
    'CuDNNLSTM',
    'CuDNNGRU',
    'DenseFeatures',
    'RandomFourierFeatures',
    'Discretization',
    'Hashing',
    'HashedCrossing',
    'StringLookup',
    'IntegerLookup',
    'TextVectorization',
  ].map((name) => lacking(name, '2+3')),
  {
    className: 'CategoryEncoding',
    status: 'refused',
    keras: '2+3',
    module: PRE,
    how: "TF.js 4.22's CategoryEncoding overwrites its input's shape, so the model it builds is wrong",
  },
  ...[
    'EinsumDense',
    'GroupNormalization',
    'SpectralNormalization',
    'GroupedQueryAttention',
    'RMSNormalization',
    'AdaptiveAveragePooling1D',
    'AdaptiveAveragePooling2D',
    'AdaptiveAveragePooling3D',
    'AdaptiveMaxPooling1D',
    'AdaptiveMaxPooling2D',
    'AdaptiveMaxPooling3D',
    'ReversibleEmbedding',
    'TernaryDense',
    'Pipeline',
    'MelSpectrogram',
    'STFTSpectrogram',
    'AutoContrast',
    'Equalization',
    'Solarization',
    'ContrastLimitedAdaptiveHistogramEqualization',
    'MaxNumBoundingBoxes',
    'TorchModuleWrapper',
    'JaxLayer',
    'FlaxLayer',
  ].map((name) => lacking(name, '3')),
];

/** Keras activation names (`activation=` of a layer, or an Activation layer) and how each is converted. */
export interface ActivationEntry {
  readonly name: string;
  readonly status: 'as-is' | 'rewritten' | 'refused';
  readonly keras: KerasMajors;
  readonly how: string;
}

const act = (name: string, status: ActivationEntry['status'], keras: KerasMajors, how: string): ActivationEntry => ({
  name,
  status,
  keras,
  how,
});

export const ACTIVATIONS: readonly ActivationEntry[] = [
  ...['linear', 'relu', 'relu6', 'elu', 'selu', 'sigmoid', 'tanh', 'softmax', 'softplus', 'softsign', 'gelu'].map(
    (name) => act(name, 'as-is', '2+3', 'TF.js has it'),
  ),
  act('swish', 'as-is', '2', 'TF.js has it'),
  act('hard_sigmoid', 'as-is', '2', 'TF.js has it (0.2·x + 0.5, as Keras 2)'),
  act('mish', 'as-is', '3', 'TF.js has it'),
  act('log_softmax', 'as-is', '3', 'TF.js has it'),
  act('silu', 'rewritten', '3', 'swish'),
  act(
    'hard_sigmoid',
    'rewritten',
    '3',
    'Keras 3 computes relu6(x + 3) / 6: Rescaling(offset 3), ReLU(max 6), Rescaling(1/6)',
  ),
  act('hard_silu', 'rewritten', '3', 'x · hard_sigmoid(x): the hard_sigmoid layers and a Multiply'),
  act('hard_swish', 'rewritten', '3', 'as hard_silu'),
  act('leaky_relu', 'rewritten', '3', 'LeakyReLU(alpha 0.2)'),
  ...[
    'exponential',
    'celu',
    'glu',
    'hard_tanh',
    'hard_shrink',
    'soft_shrink',
    'sparse_plus',
    'sparsemax',
    'squareplus',
    'tanh_shrink',
    'threshold',
    'log_sigmoid',
  ].map((name) => act(name, 'refused', '3', `TF.js has no ${name} activation`)),
];

const appliesTo = (keras: KerasMajors, major: number) => keras === '2+3' || keras === String(major);

/** The table entry for a class as written by Keras `major` (2 or 3), if any. */
export function findLayerClass(className: string, major: number): LayerClass | undefined {
  return (
    LAYER_CLASSES.find((entry) => entry.className === className && appliesTo(entry.keras, major)) ??
    LAYER_CLASSES.find((entry) => entry.className === className)
  );
}

/** The table entry for an activation name as written by Keras `major`, if any. */
export function findActivation(name: string, major: number): ActivationEntry | undefined {
  return (
    ACTIVATIONS.find((entry) => entry.name === name && appliesTo(entry.keras, major)) ??
    ACTIVATIONS.find((entry) => entry.name === name)
  );
}

/** Counts of the table by status (the figures docs/convert.md and the closing note quote). */
export function statusCounts(): Record<LayerStatus, number> {
  const counts: Record<LayerStatus, number> = { 'as-is': 0, rewritten: 0, dropped: 0, custom: 0, refused: 0 };
  for (const entry of LAYER_CLASSES) counts[entry.status]++;
  return counts;
}
