/**
 * Writes float32 values into a built model's variables with as little memory as the backend allows
 * (docs/performance.md, "Keras conversion"): on wasm the values are written straight into a new tensor's block of
 * the heap (the tensor is made the way wasm kernels make their outputs, `makeOutput`): no JS copy of the tensor.
 */
import * as tf from '@tensorflow/tfjs';

/** The two members of tfjs-backend-wasm's BackendWasm that its own kernels use to make an output in place. */
interface HeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
}

const heapBackend = (): (tf.KernelBackend & HeapBackend) | undefined => {
  const backend = tf.backend() as tf.KernelBackend & Partial<HeapBackend>;
  return tf.getBackend() === 'wasm' &&
    typeof backend.makeOutput === 'function' &&
    typeof backend.typedArrayFromHeap === 'function'
    ? (backend as tf.KernelBackend & HeapBackend)
    : undefined;
};

/**
 * Replaces a variable's values with what `fill` writes into the array it is given (exactly the variable's size).
 * `fill` must not run TF.js ops (the heap could grow under the array).
 */
export function writeWeight(variable: tf.LayerVariable, fill: (target: Float32Array) => void): void {
  const shape = variable.shape as number[];
  const backend = heapBackend();
  if (!backend) {
    // cpu (and others) keep the array they are given: a fresh one each time
    const values = new Float32Array(shape.reduce((product, size) => product * size, 1));
    fill(values);
    replace(variable, tf.tensor(values, shape, 'float32'));
    return;
  }
  const info = backend.makeOutput(shape, 'float32');
  const tensor = tf.engine().makeTensorFromTensorInfo(info, backend);
  try {
    fill(backend.typedArrayFromHeap(info));
  } catch (error) {
    tensor.dispose();
    throw error;
  }
  replace(variable, tensor);
}

/** Writes a tensor into a variable (which then holds the data) and drops the caller's reference. */
function replace(variable: tf.LayerVariable, value: tf.Tensor): void {
  variable.write(value);
  value.dispose();
}
