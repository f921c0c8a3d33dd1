/** `lambda-ml policy`: the least-privilege IAM policy the function's role needs. */
import { loadConfig } from '../../config/load.js';
import { policy } from '../../deploy/index.js';
import { EXIT, type ExitCode } from '../../lib/errors.js';
import type { GlobalOptions, Io } from '../io.js';

export async function policyCommand(io: Io, flags: GlobalOptions): Promise<ExitCode> {
  const config = await loadConfig(io.cwd, flags.config);
  const document = policy(config);
  io.stdout.write(JSON.stringify(flags.json ? { schemaVersion: 1, ok: true, policy: document } : document, null, 2) + '\n');
  return EXIT.OK;
}
