// One error for every layer `convert` cannot take: the first line counts them by class, the details list each
// class with its count, the layers it appears in and the advice that fits (docs/convert.md, "Errors").
import { LambdaMlError } from '../lib/errors.js';
import type { Problem } from './rewrite-types.js';

/** How many layer names a detail line shows before "and N more". */
const SHOWN_NAMES = 4;

export const LAMBDA_REASON = 'holds Python bytecode, which cannot run outside Python';
export const LAMBDA_ADVICE =
  'replace it with built-in layers ' +
  '(e.g. Rescaling(scale=1/127.5, offset=-1) for x / 127.5 - 1) and save the model again';
export const CUSTOM_ADVICE =
  'replace it with built-in Keras layers and save the model again, ' +
  'or register a TF.js layer class of that name (tf.serialization.registerClass) before loading the converted model';
export const SUBCLASSED_ADVICE =
  'rebuild it with the Functional API (keras.Model(inputs, outputs)) ' +
  'or keras.Sequential, ' +
  'load the trained weights into it, and save it again';

const SUBCLASSED = 'subclassed model ';
const SUBCLASSED_REASON = 'is a subclassed model: its architecture is Python code and is not in the file';
const MANY_HINT =
  'fix every layer listed above and save the model again ' + '(docs/convert.md lists the classes convert accepts)';

/** A problem for a subclassed model at the root: its layers are Python code, so nothing below it is in the file. */
export function subclassedProblem(className: string, name: string): Problem {
  return { group: `${SUBCLASSED}${className}`, name, reason: SUBCLASSED_REASON, advice: SUBCLASSED_ADVICE };
}

const names = (list: readonly string[]) => {
  const shown = list
    .slice(0, SHOWN_NAMES)
    .map((name) => name || '(unnamed)')
    .join(', ');
  return list.length > SHOWN_NAMES ? `${shown} and ${list.length - SHOWN_NAMES} more` : shown;
};

/** Builds the one error that lists every problem; `problems` must not be empty. */
export function unsupportedError(label: string, problems: readonly Problem[]): LambdaMlError {
  const groups = new Map<string, { reason: string; advice: string; names: string[] }>();
  for (const problem of problems) {
    const key = `${problem.group}\u0000${problem.reason}`;
    const group = groups.get(key) ?? { reason: problem.reason, advice: problem.advice, names: [] };
    group.names.push(problem.name);
    groups.set(key, group);
  }
  const entries = [...groups].map(([key, group]) => ({ group: key.split('\u0000')[0], ...group }));
  const subclassed = entries.find((entry) => entry.group.startsWith(SUBCLASSED));
  if (subclassed) {
    const className = subclassed.group.slice(SUBCLASSED.length);
    const named = subclassed.names[0] ? ` (${subclassed.names[0]})` : '';
    const message =
      `${label}: the model is a subclassed ${className}${named}: ` +
      'its architecture is Python code and is not in the file';
    return new LambdaMlError('input', message, SUBCLASSED_ADVICE);
  }
  const byClass = new Map<string, number>();
  for (const entry of entries) byClass.set(entry.group, (byClass.get(entry.group) ?? 0) + entry.names.length);
  const summary = [...byClass].map(([group, count]) => `${count} ${group}`).join(', ');
  const total = problems.length;
  const message = `${label}: ${total} layer${total === 1 ? '' : 's'} cannot be converted: ${summary}`;
  const details = entries.map(
    (entry) => `${entry.group} (${entry.names.length}): ${names(entry.names)}: ${entry.reason}; ${entry.advice}`,
  );
  const hint = entries.length === 1 ? entries[0].advice : MANY_HINT;
  return new LambdaMlError('input', message, hint, { details });
}
