/**
 * The Node half of the native audit (docs/design.md §6): an addon that is not Node-API loads only on the Node major
 * whose NODE_MODULE_VERSION it exports (`node_register_module_vNNN`).
 */
import type { AbiFailure, NativeAudit, NativeBinary } from './record.js';
import { RUNTIMES, type LambdaRuntime } from './table.js';

const NPM_CPU = { x86_64: 'x64', arm64: 'arm64' } as const;

/** The NODE_MODULE_VERSION check of one binary. */
function nodeAbiFailure(binary: NativeBinary, runtime: LambdaRuntime): AbiFailure | null {
  const addon = binary.addon;
  if (!binary.label.endsWith('.node') || !addon || addon.napi || addon.moduleVersion === null) return null;
  if (addon.moduleVersion === runtime.nodeModuleVersion) return null;
  const built = RUNTIMES.find((r) => r.nodeModuleVersion === addon.moduleVersion);
  const node = built ? `Node ${built.version}` : 'another Node';
  return {
    reason:
      `a Node addon built for ${node} (NODE_MODULE_VERSION ${addon.moduleVersion}, not Node-API); ` +
      `${runtime.id} is Node ${runtime.version} (${runtime.nodeModuleVersion})`,
    fix: 'node-abi',
  };
}

export const NODE_AUDIT: NativeAudit = {
  abiChecker: () => nodeAbiFailure,
  fixHint(fix, runtime, arch) {
    const cpu = NPM_CPU[arch];
    if (fix === 'node-abi') {
      const node = `Node ${runtime.version}`;
      return (
        `rebuild the addon under ${node} on linux/${cpu}: npm rebuild ` +
        `(or npm install --os=linux --cpu=${cpu} with ${node})`
      );
    }
    return `reinstall the deps for Lambda: npm install --os=linux --cpu=${cpu} (or npm ci on a linux/${cpu} machine)`;
  },
};
