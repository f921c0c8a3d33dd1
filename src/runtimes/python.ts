/** The Python record (record.ts): pip install -t folders, python/ layer folders, lambda_ml_bootstrap.py. */
import { fileURLToPath } from 'node:url';
import { MiB } from '../lib/limits.js';
import { PYTHON_AUDIT } from './python-audit.js';
import { groupPythonPackages, normalizeName } from './python-deps.js';
import { isPythonMetadata, PYTHON_LAYER_ROOT, pythonLayerRoots, pythonProvided } from './python-layers.js';
import { pythonPruner } from './prune-rules.js';
import type { RuntimeRecord } from './record.js';

export { cpythonTag } from './python-audit.js';

/** CPython + TensorFlow 1.x + Keras imported: ~350 MiB in the source scenario, rounded up. */
export const PYTHON_BASE_BYTES = 384 * MiB;

/**
 * lambda_ml_bootstrap.py, packaged as it is: the same relative URL reaches it from src/runtimes/ (tsx) and from
 * dist/runtimes/ (tsc output), since the npm package ships src/runtimes/python/ beside dist/.
 */
export const PYTHON_BOOTSTRAP_FILE = fileURLToPath(
  new URL('../../src/runtimes/python/lambda_ml_bootstrap.py', import.meta.url),
);

const NO_EXCLUDES: ReadonlySet<string> = new Set();

export const PYTHON_RECORD: RuntimeRecord = Object.freeze<RuntimeRecord>({
  name: 'python',
  title: 'Python',
  deps: {
    folder: 'a pip install -t folder',
    install: 'pip install -t DIR',
    example: 'deps',
    walkRoot: (configured: string) => configured,
    exclude: () => NO_EXCLUDES,
    group: groupPythonPackages,
    rootOf: (walkRoot: string) => walkRoot,
  },
  layers: {
    packageRoots: pythonLayerRoots,
    anyRoot: PYTHON_LAYER_ROOT,
    isMetadata: isPythonMetadata,
    provided: pythonProvided,
    resolvedByHandler: false, // Python puts the layer folders on sys.path itself
  },
  match: {
    // By distribution name (PEP 503) or by what code imports (top_level.txt): "PIL" finds Pillow.
    importNames: (pkg) => (pkg.topLevel.length ? pkg.topLevel : [pkg.name]),
    providedKeys: (pkg) => [normalizeName(pkg.name), ...pkg.topLevel.map((t) => `import:${t}`)],
    depKeys: (pkg) => [normalizeName(pkg.name), ...pkg.topLevel.map((t) => `import:${t}`)],
    isTopLevel: () => true,
    nests: false,
  },
  prune: { ruleFor: (entries) => pythonPruner(entries), traces: false },
  emitted: () => [{ path: 'lambda_ml_bootstrap.py', kind: 'file', source: PYTHON_BOOTSTRAP_FILE }],
  handlerProvides: () => [], // the user's own handler imports whatever it needs from the deps
  handlerNatives: () => [],
  sideloadFormat: 'zip',
  sideloadFormats: ['zip'],
  sideloadReader: 'bootstrap',
  defaultHandler: null, // the user's own module names it
  baseMemoryBytes: PYTHON_BASE_BYTES,
  sideloadArchiveIn: 'tmp', // the bootstrap downloads deps.zip to /tmp before extracting
  loadsKeras: true, // the user's handler loads Keras files as they are
  audit: PYTHON_AUDIT,
  invoke: {
    local: false,
    hint:
      'run your Python handler locally with python3 ' +
      '(lambda_ml_bootstrap works outside Lambda with LAMBDA_ML_TMP set)',
  },
});
