/**
 * The short hash of the models a function ships (docs/backfill.md, "UserArguments"). It lives with the handler,
 * which ships alone in the function zip and computes the same value from lambda-ml.runtime.json.
 */
export { modelFileShas, modelsHash } from '../handler/models-hash.js';
