/** What `package` adds at the function root besides the user's code and deps. */
import type { Config } from '../types.js';
import { nodeHandlerInputs } from './handler-files.js';
import { PYTHON_BOOTSTRAP } from './python-bootstrap.js';
import type { ZipInput } from './zip-writer.js';

/** Node: the classifier handler; Python: lambda_ml_bootstrap.py (the user's own handler is in `code`). */
export function emittedInputs(config: Config, runtime: 'node' | 'python'): ZipInput[] {
  if (runtime === 'python')
    return [{ name: 'lambda_ml_bootstrap.py', kind: 'file', data: Buffer.from(PYTHON_BOOTSTRAP) }];
  return nodeHandlerInputs();
}
