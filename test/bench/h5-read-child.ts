// Child of test/bench/h5-readers.ts: reads a Keras 2 H5 with one HDF5 library and prints one JSON line.
// Usage (compiled to plain JS by the parent, so tsx's transform of h5wasm's 4 MB module is not counted):
//   node h5-read-child.js h5wasm|h5wasm-sliced|jsfive FILE.h5
// The work is the converter's: model_config (parsed), model_weights/layer_names, each layer's weight_names,
// and for each weight dataset its shape, dtype and full values as float32, summed as a checksum.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { getDataset, getGroup, h5Ready, openHdf5, stringAttr, stringListAttr } from '../../src/convert/h5-file.js';
import { float32Slices, readTensor } from '../../src/convert/read-tensor.js';

export type H5Library = 'h5wasm' | 'h5wasm-sliced' | 'jsfive';

/** What the child reports (one JSON line on stdout). */
export interface H5ReadResult {
  readonly library: H5Library;
  readonly wallMs: number;
  /** user + system CPU time of the read. */
  readonly cpuMs: number;
  /** process.resourceUsage().maxRSS: the whole child's peak, module loading included. */
  readonly peakRssBytes: number;
  /** RSS after the library is loaded, before the file is opened. */
  readonly baselineRssBytes: number;
  readonly datasets: number;
  readonly elements: number;
  /** Sum of every weight value (float32 values added in float64, in file order). */
  readonly checksum: number;
}

/** The part of jsfive 0.4.2 used here (the package ships no types). */
interface JsfiveNode {
  readonly attrs: Record<string, unknown>;
  readonly keys: string[];
  get(path: string): JsfiveNode | null;
}
interface JsfiveDataset extends JsfiveNode {
  readonly shape: number[];
  readonly dtype: unknown;
  readonly value: ArrayLike<number>;
}
interface Jsfive {
  readonly File: new (buffer: ArrayBuffer, filename: string) => JsfiveNode;
  readonly Dataset: abstract new (...args: never[]) => JsfiveDataset;
}

interface Tally {
  datasets: number;
  elements: number;
  checksum: number;
}

function add(tally: Tally, values: Float32Array): void {
  let sum = tally.checksum; // one running sum in file order, so slicing does not change the rounding
  for (let index = 0; index < values.length; index++) sum += values[index];
  tally.checksum = sum;
  tally.elements += values.length;
}

async function readWithH5wasm(path: string, sliced: boolean): Promise<Tally> {
  const tally: Tally = { datasets: 0, elements: 0, checksum: 0 };
  const file = await openHdf5(path);
  try {
    const config = JSON.parse(stringAttr(file, 'model_config') ?? 'null') as unknown;
    if (config === null) throw new Error('no model_config');
    const root = getGroup(file, 'model_weights') ?? file;
    for (const layerName of stringListAttr(root, 'layer_names') ?? root.keys()) {
      const group = getGroup(root, layerName);
      if (!group) continue;
      for (const weightName of stringListAttr(group, 'weight_names') ?? []) {
        const dataset = getDataset(group, weightName);
        if (!dataset) throw new Error(`missing ${layerName}/${weightName}`);
        const shape = dataset.shape ?? [];
        if (shape.length === 0 && dataset.metadata.total_size !== 1) throw new Error(`no shape for ${weightName}`);
        tally.datasets++;
        if (sliced) {
          // what write-tfjs.ts does for plain float32: slices of ~4 MB along the first axis
          for (const slice of float32Slices(dataset)) add(tally, slice);
        } else {
          const tensor = readTensor(dataset, path);
          if (tensor.dtype !== 'float32') throw new Error(`unexpected dtype for ${weightName}`);
          add(tally, tensor.values);
        }
      }
    }
  } finally {
    file.close();
  }
  return tally;
}

const decodeString = (item: unknown) => (item instanceof Uint8Array ? new TextDecoder().decode(item) : String(item));

function jsfiveStrings(node: JsfiveNode, name: string): string[] | undefined {
  const value = node.attrs[name];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.map(decodeString) : [decodeString(value)];
}

async function readWithJsfive(hdf5: Jsfive, path: string): Promise<Tally> {
  const tally: Tally = { datasets: 0, elements: 0, checksum: 0 };
  const bytes = await readFile(path); // jsfive reads from an ArrayBuffer holding the whole file
  const buffer =
    bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
      ? (bytes.buffer as ArrayBuffer)
      : (bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  const file = new hdf5.File(buffer, basename(path));
  const configText = jsfiveStrings(file, 'model_config')?.[0];
  if (configText === undefined) throw new Error('no model_config');
  JSON.parse(configText);
  const root = file.keys.includes('model_weights') ? file.get('model_weights')! : file;
  for (const layerName of jsfiveStrings(root, 'layer_names') ?? root.keys) {
    const group = root.get(layerName);
    if (!group) continue;
    for (const weightName of jsfiveStrings(group, 'weight_names') ?? []) {
      const dataset = group.get(weightName);
      if (!(dataset instanceof hdf5.Dataset)) throw new Error(`missing ${layerName}/${weightName}`);
      const dtype = String(dataset.dtype);
      if (!/^<f[248]$/.test(dtype)) throw new Error(`unexpected dtype ${dtype} for ${weightName}`);
      const count = dataset.shape.reduce((a, b) => a * b, 1);
      const values = Float32Array.from(dataset.value); // jsfive returns a plain Array of numbers
      if (values.length !== count)
        throw new Error(`${weightName}: ${values.length} values for shape ${dataset.shape.join('x')}`);
      tally.datasets++;
      add(tally, values);
    }
  }
  return tally;
}

async function main(): Promise<void> {
  const [library, path] = process.argv.slice(2) as [H5Library, string];
  let read: () => Promise<Tally>;
  // module loading and initialisation are not reading time (the CLI pays them once per process)
  if (library === 'jsfive') {
    const specifier = 'jsfive'; // not a literal, so tsc does not look for the types jsfive lacks
    const hdf5 = (await import(specifier)) as Jsfive;
    read = () => readWithJsfive(hdf5, path);
  } else if (library === 'h5wasm' || library === 'h5wasm-sliced') {
    await h5Ready();
    read = () => readWithH5wasm(path, library === 'h5wasm-sliced');
  } else {
    throw new Error(`unknown library ${String(library)}`);
  }
  const baselineRssBytes = process.memoryUsage().rss;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const tally = await read();
  const wallMs = Math.round(performance.now() - started);
  const cpu = process.cpuUsage(cpuBefore);
  const result: H5ReadResult = {
    library,
    wallMs,
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    baselineRssBytes,
    ...tally,
  };
  process.stdout.write(JSON.stringify(result) + '\n');
}

await main();
