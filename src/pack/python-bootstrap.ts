/**
 * lambda_ml_bootstrap.py (docs/design.md §7): `import lambda_ml_bootstrap` first makes the sideloaded deps importable,
 * and gives the user's handler `model_path` and `merge_tags`. The module is a real Python file in the repository,
 * src/runtimes/python/, packaged byte for byte.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Where the module is: the same relative URL reaches it from src/pack/ (tsx) and from dist/pack/ (tsc output), because
 * the npm package ships src/runtimes/python/ beside dist/ (package.json "files").
 */
export const PYTHON_BOOTSTRAP_PATH = fileURLToPath(
  new URL('../../src/runtimes/python/lambda_ml_bootstrap.py', import.meta.url),
);

/** The module's text, read once. Standard library only; boto3 (in the Lambda runtime) for what lives in S3. */
export const PYTHON_BOOTSTRAP: string = readFileSync(PYTHON_BOOTSTRAP_PATH, 'utf8');
