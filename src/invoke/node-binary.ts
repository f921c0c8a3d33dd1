/**
 * Which Node runs the handler of `invoke --local` (docs/design.md, "invoke --local runs on the runtime's Node"):
 * `--node PATH`, else this process's Node when it is already the runtime's major, else the runtime's major from the
 * cache (node-cache.ts, installed on first use), else this process's Node with one warning saying how to fix it.
 */
import { isAbsolute, resolve } from 'node:path';
import { inputError } from '../lib/errors.js';
import type { LambdaRuntime } from '../runtimes/table.js';
import { cachedNode, NodeInstallError } from './node-cache.js';
import { probeNode } from './node-probe.js';

export type NodeSource = 'flag' | 'cache' | 'current';

/** The Node binary the child is forked with. */
export interface NodeChoice {
  readonly path: string;
  readonly version: string;
  readonly source: NodeSource;
  /** One line when it is not the runtime's major, else null. */
  readonly warning: string | null;
}

/** A `--node PATH` that ran. */
export interface FlagNode {
  readonly flag: string;
  readonly path: string;
  readonly version: string;
  readonly major: number;
}

export interface ResolveNodeOptions {
  readonly runtime: LambdaRuntime;
  /** `--node PATH`, checked by checkNodeFlag. */
  readonly flagged?: FlagNode;
  readonly env: NodeJS.ProcessEnv;
  readonly onInstall?: (what: string) => void;
}

const current = (): { path: string; version: string; major: number } => ({
  path: process.execPath,
  version: process.versions.node,
  major: Number(process.versions.node.split('.')[0]),
});

/** Picks the Node binary for `runtime`; only a bad `--node` is an error. */
export async function resolveNode(options: ResolveNodeOptions): Promise<NodeChoice> {
  const { runtime } = options;
  const { flagged } = options;
  if (flagged) {
    const warning =
      flagged.major === runtime.major
        ? null
        : `--node ${flagged.flag} is Node ${flagged.version}, but ${runtime.id} runs Node ${runtime.major}: ` +
          'results may differ on Lambda';
    return { path: flagged.path, version: flagged.version, source: 'flag', warning };
  }
  const self = current();
  if (self.major === runtime.major) return { path: self.path, version: self.version, source: 'current', warning: null };
  try {
    const path = await cachedNode(runtime.major, { env: options.env, onInstall: options.onInstall });
    const { version } = await probeNode(path);
    return { path, version, source: 'cache', warning: null };
  } catch (error) {
    if (!(error instanceof NodeInstallError)) throw error;
    const warning =
      `the handler runs on Node ${self.version} (this node), not Node ${runtime.major} as on ` +
      `${runtime.id}: ${error.message}; pass --node PATH to a Node ${runtime.major} binary`;
    return { path: self.path, version: self.version, source: 'current', warning };
  }
}

/** Runs `--node PATH` (relative to `cwd`) once; exit 2 when it is not a Node binary that runs. */
export async function checkNodeFlag(flag: string, cwd: string): Promise<FlagNode> {
  const hint = 'give the path of a node executable of the runtime\'s major, e.g. --node "$(command -v node)"';
  if (flag.trim() === '') throw inputError('--node needs the path of a node binary', hint);
  const path = isAbsolute(flag) ? flag : resolve(cwd, flag);
  const probed = await probeNode(path).catch((error: Error) => {
    throw inputError(`--node ${flag}: ${error.message.replace(`${path}: `, '')}`, hint);
  });
  return { flag, path, ...probed };
}
