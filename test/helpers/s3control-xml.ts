/**
 * The XML of the S3 Control REST API for the loopback server: a small element-tree parser and writer (elements,
 * text, entities; attributes such as xmlns are read and ignored), and validation of a tree against the shapes of the
 * API model (s3control-shapes.json): required members, lengths, patterns, ranges, enums, lists (`<member>`), maps
 * (`<entry><key/><value/></entry>`), unions.
 */
import shapesFile from './s3control-shapes.json' with { type: 'json' };

/** An element: its name, child elements in order, and its own text. */
export interface El {
  readonly name: string;
  readonly children: El[];
  text: string;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

const decode = (s: string) =>
  s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] !== '#') return ENTITIES[e] ?? m;
    return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
  });

/** Escapes text for an element body. */
export const escapeXml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Parses a document; throws an Error with a short reason on malformed XML. */
export function parseXml(xml: string): El {
  let i = 0;
  const root: El = { name: '#document', children: [], text: '' };
  const stack: El[] = [root];
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const textEnd = lt === -1 ? xml.length : lt;
    const text = xml.slice(i, textEnd);
    if (text.trim() && stack.length === 1) throw new Error('text outside the root element');
    stack[stack.length - 1].text += decode(text);
    if (lt === -1) break;
    const skip = xml.startsWith('<?', lt) ? '?>' : xml.startsWith('<!--', lt) ? '-->' : null;
    if (skip) {
      const end = xml.indexOf(skip, lt);
      if (end === -1) throw new Error(`unterminated ${skip === '?>' ? 'declaration' : 'comment'}`);
      i = end + skip.length;
      continue;
    }
    if (xml.startsWith('<![CDATA[', lt)) {
      const end = xml.indexOf(']]>', lt);
      if (end === -1) throw new Error('unterminated CDATA');
      stack[stack.length - 1].text += xml.slice(lt + 9, end);
      i = end + 3;
      continue;
    }
    const gt = xml.indexOf('>', lt);
    if (gt === -1) throw new Error('unterminated tag');
    const tag = xml.slice(lt + 1, gt);
    i = gt + 1;
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      const open = stack.pop();
      if (!open || open.name !== name || stack.length === 0) throw new Error(`unexpected closing tag </${name}>`);
      continue;
    }
    const selfClosing = tag.endsWith('/');
    const name = /^([A-Za-z_][\w.:-]*)/.exec(tag)?.[1];
    if (!name) throw new Error(`bad tag <${tag.slice(0, 20)}>`);
    const el: El = { name, children: [], text: '' };
    stack[stack.length - 1].children.push(el);
    if (stack.length === 1 && root.children.length > 1) throw new Error('more than one root element');
    if (!selfClosing) stack.push(el);
  }
  if (stack.length !== 1) throw new Error(`unclosed element <${stack[stack.length - 1].name}>`);
  if (root.children.length !== 1) throw new Error('no root element');
  return root.children[0];
}

/** Writes a tree (no declaration). */
export function writeXml(el: El): string {
  if (el.children.length === 0) return `<${el.name}>${escapeXml(el.text)}</${el.name}>`;
  return `<${el.name}>${el.children.map(writeXml).join('')}</${el.name}>`;
}

/** Builds an element: a string, number or boolean is its text, an array its children (null and undefined dropped). */
export function el(name: string, content?: string | number | boolean | (El | null | undefined)[] | null): El {
  if (Array.isArray(content)) return { name, children: content.filter((c): c is El => Boolean(c)), text: '' };
  return { name, children: [], text: content === undefined || content === null ? '' : String(content) };
}

/** The first child named `name`. */
export const child = (e: El | undefined, name: string): El | undefined => e?.children.find((c) => c.name === name);
/** The text of the child named `name`, or undefined when absent. */
export const textOf = (e: El | undefined, name: string): string | undefined => child(e, name)?.text;
/** A deep copy. */
export const cloneEl = (e: El): El => ({ name: e.name, text: e.text, children: e.children.map(cloneEl) });

interface Shape {
  type: string;
  required?: string[];
  members?: Record<string, { shape: string; locationName?: string }>;
  member?: { shape: string; locationName?: string };
  key?: { shape: string };
  value?: { shape: string };
  min?: number;
  max?: number;
  pattern?: string;
  enum?: string[];
  union?: boolean;
  otherMembers?: string[];
}

const SHAPES = (shapesFile as unknown as { shapes: Record<string, Shape> }).shapes;

/** A problem found by validateShape: the path and what is wrong. */
export interface ShapeProblem {
  readonly path: string;
  readonly message: string;
  readonly unsupported?: boolean;
}

/** The model's (Java-style) pattern as a whole-value match; `\p{L}` needs the u flag, `\-` and `\_` refuse it. */
function fullMatch(pattern: string): RegExp {
  const source = `^(?:${pattern.replace(/^\^/, '').replace(/\$$/, '')})$`;
  return /\\p\{/.test(pattern) ? new RegExp(source, 'u') : new RegExp(source);
}

/** A member's path segment as AWS's messages write it: lowerCamelCase. */
const segment = (name: string) => name.charAt(0).toLowerCase() + name.slice(1);
const join = (path: string, name: string) => (path ? `${path}.${segment(name)}` : segment(name));

const show = (v: string) => (v.length > 60 ? `${v.slice(0, 57)}...` : v);
const violation = (what: string, path: string, constraint: string) =>
  `${what} at '${path}' failed to satisfy constraint: ${constraint}`;

/** The constraint a scalar value breaks, or null. */
function scalarConstraint(value: string, shape: Shape): string | null {
  const { min, max } = shape;
  switch (shape.type) {
    case 'string':
      if (shape.enum && !shape.enum.includes(value)) {
        return `Member must satisfy enum value set: [${shape.enum.join(', ')}]`;
      }
      if (min !== undefined && value.length < min) return `Member must have length greater than or equal to ${min}`;
      if (max !== undefined && value.length > max) return `Member must have length less than or equal to ${max}`;
      if (shape.pattern && !fullMatch(shape.pattern).test(value)) {
        return `Member must satisfy regular expression pattern: ${shape.pattern}`;
      }
      return null;
    case 'integer':
    case 'long': {
      if (!/^-?\d+$/.test(value)) return 'Member must be an integer';
      const n = Number(value);
      if (min !== undefined && n < min) return `Member must have value greater than or equal to ${min}`;
      if (max !== undefined && n > max) return `Member must have value less than or equal to ${max}`;
      return null;
    }
    case 'boolean':
      return value === 'true' || value === 'false' ? null : 'Member must be true or false';
    case 'timestamp':
      return Number.isNaN(Date.parse(value)) ? 'Member must be a timestamp' : null;
    default:
      throw new Error(`a ${shape.type} is not a scalar`);
  }
}

/** Checks a scalar value (string, number, boolean, timestamp) against its shape. */
export function checkScalar(value: string, shapeName: string, path: string): ShapeProblem | null {
  const shape = SHAPES[shapeName];
  if (!shape) throw new Error(`unknown shape ${shapeName}`);
  const constraint = scalarConstraint(value, shape);
  return constraint ? { path, message: violation(`Value '${show(value)}'`, path, constraint) } : null;
}

function validateStructure(e: El, shapeName: string, path: string, problems: ShapeProblem[]): void {
  const shape = SHAPES[shapeName];
  const members = Object.entries(shape.members ?? {});
  const byXmlName = new Map(members.map(([name, m]) => [m.locationName ?? name, { name, ...m }]));
  const seen = new Set<string>();
  for (const c of e.children) {
    const member = byXmlName.get(c.name);
    if (!member) {
      const unsupported = shape.otherMembers?.includes(c.name) ?? false;
      const message = unsupported
        ? `the loopback server implements LambdaInvoke only, not ${c.name}`
        : `Unknown element ${c.name} in ${shapeName}`;
      problems.push({ path: join(path, c.name), message, unsupported });
      continue;
    }
    const at = join(path, member.name);
    if (seen.has(member.name)) problems.push({ path: at, message: `${member.name} appears more than once` });
    seen.add(member.name);
    validateShape(c, member.shape, at, problems);
  }
  for (const required of shape.required ?? []) {
    const at = join(path, required);
    if (seen.has(required)) continue;
    problems.push({ path: at, message: violation('Value null', at, 'Member must not be null') });
  }
  if (shape.union && seen.size !== 1) {
    const names = members.map(([name]) => name).join(', ');
    problems.push({ path, message: `${shapeName} must set exactly one of ${names}` });
  }
}

function validateCollection(e: El, shape: Shape, path: string, problems: ShapeProblem[]): void {
  const isMap = shape.type === 'map';
  const itemName = isMap ? 'entry' : (shape.member?.locationName ?? 'member');
  const items = e.children.filter((c) => c.name === itemName);
  if (items.length !== e.children.length) {
    problems.push({ path, message: `${path} may only hold <${itemName}> elements` });
  }
  if (shape.min !== undefined && items.length < shape.min) {
    problems.push({ path, message: violation('Value', path, `Member must have at least ${shape.min} entries`) });
  }
  if (shape.max !== undefined && items.length > shape.max) {
    const constraint = isMap
      ? `Member must have at most ${shape.max} entries (has ${items.length})`
      : `Member must have length less than or equal to ${shape.max}`;
    problems.push({ path, message: violation('Value', path, constraint) });
  }
  if (!isMap) {
    items.forEach((item, i) => validateShape(item, shape.member!.shape, `${path}.${i + 1}.member`, problems));
    return;
  }
  const keys = new Set<string>();
  for (const entry of items) {
    const key = textOf(entry, 'key');
    if (key === undefined) {
      problems.push({ path, message: `an entry of ${path} has no <key>` });
      continue;
    }
    if (keys.has(key)) problems.push({ path, message: `${path} has the key "${key}" twice` });
    keys.add(key);
    const keyProblem = checkScalar(key, shape.key!.shape, `${path}.key`);
    if (keyProblem) problems.push(keyProblem);
    const valueProblem = checkScalar(child(entry, 'value')?.text ?? '', shape.value!.shape, `${path}.${key}`);
    if (valueProblem) problems.push(valueProblem);
  }
}

/** Validates an element against a shape of the model; returns every problem found. */
export function validateShape(e: El, shapeName: string, path: string, problems: ShapeProblem[] = []): ShapeProblem[] {
  const shape = SHAPES[shapeName];
  if (!shape) throw new Error(`unknown shape ${shapeName}`);
  if (shape.type === 'structure') validateStructure(e, shapeName, path, problems);
  else if (shape.type === 'list' || shape.type === 'map') validateCollection(e, shape, path, problems);
  else {
    if (e.children.length) problems.push({ path, message: `${path} must be a value, not elements` });
    const problem = checkScalar(shape.type === 'string' ? e.text : e.text.trim(), shapeName, path);
    if (problem) problems.push(problem);
  }
  return problems;
}

/** Reads a `<entry><key/><value/></entry>` map. */
export function readMap(e: El | undefined): Record<string, string> {
  const entries = (e?.children ?? []).filter((c) => c.name === 'entry');
  return Object.fromEntries(entries.map((c) => [textOf(c, 'key') ?? '', child(c, 'value')?.text ?? '']));
}

/** Reads a `<member>` list of strings. */
export const readList = (e: El | undefined): string[] =>
  (e?.children ?? []).filter((c) => c.name === 'member').map((c) => c.text);
