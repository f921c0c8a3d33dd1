/** The Node.js record (record.ts): node_modules, nodejs/ layer folders, the emitted TF.js classifier. */
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { MiB } from '../lib/limits.js';
import { NODE_AUDIT } from './node-audit.js';
import { groupNodePackages } from './node-deps.js';
import { devOnlyPaths } from './node-dev-packages.js';
import { handlerProvided, nodeHandlerFiles, readBundleInfo } from './node-handler.js';
import { isNodeMetadata, NODE_LAYER_ROOT, nodeLayerRoots, nodeProvided } from './node-layers.js';
import { nodePruner } from './prune-rules.js';
import type { RuntimeRecord } from './record.js';

/** Node 20 + TF.js (wasm backend) + sharp + the AWS SDK, resident after a warm-up: measured ~170 MiB, rounded up. */
export const NODE_BASE_BYTES = 192 * MiB;

export const NODE_RECORD: RuntimeRecord = Object.freeze<RuntimeRecord>({
  name: 'node',
  title: 'Node.js',
  deps: {
    folder: 'node_modules',
    install: 'npm install',
    example: 'node_modules',
    // A folder holding node_modules is walked at node_modules: only that ships.
    walkRoot: (configured: string) =>
      basename(configured) !== 'node_modules' && existsSync(join(configured, 'node_modules'))
        ? join(configured, 'node_modules')
        : configured,
    exclude: devOnlyPaths, // devDependencies never ship
    // Entry paths start with node_modules/, as they sit in the function zip, relative to the folder holding it.
    group: (walkRoot, tree) => groupNodePackages(walkRoot, tree, 'node_modules/'),
    rootOf: dirname,
  },
  layers: {
    packageRoots: nodeLayerRoots,
    anyRoot: NODE_LAYER_ROOT,
    isMetadata: isNodeMetadata,
    provided: nodeProvided,
    resolvedByHandler: true, // ESM `import` ignores NODE_PATH: the handler resolves them through createRequire
  },
  match: {
    importNames: (pkg) => [pkg.name],
    providedKeys: (pkg) => [pkg.name],
    depKeys: (pkg) => [pkg.name],
    isTopLevel: (path) => /^node_modules\/(?:@[^/]+\/)?[^/]+$/.test(path),
    nests: true,
  },
  prune: { ruleFor: (_entries, root) => nodePruner(root), traces: true },
  emitted: nodeHandlerFiles,
  handlerProvides: (deps) => handlerProvided(deps, readBundleInfo()),
  handlerNatives: () => readBundleInfo().native.map((n) => n.name),
  sideloadFormats: ['tar.br', 'zip'],
  sideloadReader: 'handler',
  sideloadFormat: 'tar.br', // the default; config sideload.format "zip" keeps deps.zip (docs/config.md)
  defaultHandler: 'index.handler',
  baseMemoryBytes: NODE_BASE_BYTES,
  sideloadArchiveIn: 'memory', // deps.zip is held in memory and extracted from there; deps.tar.br is streamed
  loadsKeras: false, // the handler runs TF.js: package converts Keras files
  audit: NODE_AUDIT,
  invoke: { local: true },
});
