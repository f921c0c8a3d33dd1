/**
 * How `package` lays the handler out in the function zip. The tsc build of src/handler/*.js is ESM with `.js`
 * extensions, so it goes into its own folder with a `{"type":"module"}` package.json; `index.mjs` at the root
 * re-exports the handler, so the Lambda handler setting stays `index.handler`. lambda-ml.runtime.json sits at the root.
 */
export const HANDLER_SHIP = {
  /** Folder in the function zip for dist/handler/*.js. */
  dir: 'lambda-ml',
  /** The entry file at the zip root (handler setting `index.handler`). */
  entry: 'index.mjs',
  entrySource: "export { handler } from './lambda-ml/index.js';\n",
  /** Written as `<dir>/package.json`: makes Node treat the .js files as ESM. */
  packageJson: '{ "type": "module" }\n',
  /** The runtime config, at the zip root (found through LAMBDA_TASK_ROOT). */
  runtimeConfig: 'lambda-ml.runtime.json',
} as const;
