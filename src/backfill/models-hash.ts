/**
 * The short hash of the models a function ships (docs/backfill.md, "UserArguments"). One module with the handler,
 * which computes the same value from lambda-ml.runtime.json and tags results with it.
 */
export { modelFileShas, modelsHash } from '../handler/models-hash.js';
