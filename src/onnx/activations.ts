// Keras/TF.js activations as ONNX nodes. TF.js names them by class (serializeActivation: `hardSigmoid`,
// `logSoftmax`); Keras configs use snake_case; both spellings are accepted. Each formula is TF.js's own
// (tfjs-layers 4.22 src/activations.ts), so ONNX computes what the TF.js model computes.
import { float, int, physicalAxis, type Graph, type Value } from './graph.js';

type Build = (g: Graph, base: string, x: Value) => string;

const unary =
  (op: string, attrs: Record<string, ReturnType<typeof float>> = {}): Build =>
  (g, base, x) =>
    g.op(op, base, [x.name], attrs);

/** x * sigmoid(x) */
const swish: Build = (g, base, x) => g.op('Mul', base, [x.name, g.op('Sigmoid', `${base}_sigmoid`, [x.name])]);

/** x * tanh(softplus(x)) */
const mish: Build = (g, base, x) => {
  const softplus = g.op('Softplus', `${base}_softplus`, [x.name]);
  return g.op('Mul', base, [x.name, g.op('Tanh', `${base}_tanh`, [softplus])]);
};

/** 0.5 * x * (1 + erf(x / sqrt(2))), TF.js's exact gelu. */
const gelu: Build = (g, base, x) => {
  const erf = g.op('Erf', `${base}_erf`, [g.op('Mul', `${base}_scaled`, [x.name, g.scalar(Math.SQRT1_2)])]);
  const cdf = g.op('Mul', `${base}_cdf`, [g.op('Add', `${base}_plus1`, [erf, g.scalar(1)]), g.scalar(0.5)]);
  return g.op('Mul', base, [x.name, cdf]);
};

const softmax =
  (op: string): Build =>
  (g, base, x) =>
    g.op(op, base, [x.name], { axis: int(physicalAxis(x, -1)) });

const clip =
  (lo: number, hi: number): Build =>
  (g, base, x) =>
    g.op('Clip', base, [x.name, g.scalar(lo), g.scalar(hi)]);

/** ONNX builders by activation name; `linear` is no node at all. */
const ACTIVATIONS: Readonly<Record<string, Build | null>> = {
  linear: null,
  relu: unary('Relu'),
  relu6: clip(0, 6),
  elu: unary('Elu', { alpha: float(1) }),
  selu: unary('Selu'),
  sigmoid: unary('Sigmoid'),
  hardSigmoid: unary('HardSigmoid', { alpha: float(0.2), beta: float(0.5) }),
  hard_sigmoid: unary('HardSigmoid', { alpha: float(0.2), beta: float(0.5) }),
  softplus: unary('Softplus'),
  softsign: unary('Softsign'),
  tanh: unary('Tanh'),
  softmax: softmax('Softmax'),
  logSoftmax: softmax('LogSoftmax'),
  log_softmax: softmax('LogSoftmax'),
  swish,
  silu: swish,
  mish,
  gelu,
};

/** Activation names the export knows (for the docs and the tests). */
export const ONNX_ACTIVATIONS: readonly string[] = Object.keys(ACTIVATIONS);

/** Why an activation cannot be exported, or undefined when it can. */
export function activationProblem(name: unknown): string | undefined {
  if (name === undefined || name === null) return undefined;
  if (typeof name === 'string' && name in ACTIVATIONS) return undefined;
  return `activation ${JSON.stringify(name)} has no ONNX export`;
}

/** Applies an activation to `x` (in x's layout); `linear` returns x itself. */
export function activate(g: Graph, base: string, x: Value, name: unknown): Value {
  if (name === undefined || name === null) return x;
  const build = typeof name === 'string' ? ACTIVATIONS[name] : null;
  if (build === undefined) throw new Error(`onnx: activation ${String(name)} has no ONNX export`);
  if (build === null) return x;
  return { ...x, name: build(g, base, x) };
}
