/** fsError's wording (src/lib/fs-wording.ts) as a table: reads and writes each get a hint that fits them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fsError } from '../../src/lib/errors.js';

const errno = (code: string) => Object.assign(new Error(`${code}: x`), { code, syscall: 'open' });

// [code, operation, message (after "PATH: "), hint]
const CASES: readonly (readonly [string, string, RegExp, RegExp])[] = [
  ['ENOENT', 'read', /^not found$/, /check the path/],
  ['EACCES', 'read', /^permission denied \(cannot read\)$/, /make it readable/],
  ['EPERM', 'list', /^permission denied \(cannot list\)$/, /make it readable/],
  ['ENOTDIR', 'read', /^not a folder$/, /folder/],
  ['EISDIR', 'read', /^is a folder, not a file$/, /point at a file/],
  ['ENOENT', 'write', /^its folder does not exist$/, /create the folder/],
  ['EACCES', 'write', /^permission denied \(cannot write\)$/, /make it writable/],
  ['EPERM', 'create', /^permission denied \(cannot create\)$/, /make it writable/],
  ['EROFS', 'write', /^read-only file system \(cannot write\)$/, /writable disk/],
  ['ENOTDIR', 'create', /^a folder on its path is a file$/, /choose another path/],
  ['EEXIST', 'create', /^is a file, not a folder$/, /choose another path/],
  ['EISDIR', 'write', /^is a folder, not a file$/, /give a file path/],
  ['ENOSPC', 'write', /^no space left on device$/, /free disk space/],
  ['EFBIG', 'write', /^disk quota or file size limit reached$/, /raise the limit/],
  ['EDQUOT', 'write', /^disk quota or file size limit reached$/, /raise the limit/],
  ['EBUSY', 'write', /^cannot write \(EBUSY\)$/, /^$/],
];

test('fsError: one line naming the path, a hint that fits the code and the direction', () => {
  for (const [code, what, message, hint] of CASES) {
    const error = fsError(errno(code), '/p/file', what);
    assert.equal(error.code, 'input', `${code} ${what}`);
    const whole = new RegExp(`^/p/file: ${message.source.slice(1)}`);
    assert.match(error.message, whole, `${code} ${what}: ${error.message}`);
    assert.match(error.hint ?? '', hint, `${code} ${what}: ${error.hint}`);
    if (what !== 'read' && what !== 'list') {
      assert.doesNotMatch(error.hint ?? '', /readable/, `${code} ${what}: a write says "readable"`);
    }
    assert.ok(error.cause, 'keeps the cause');
  }
});

test('fsError: a given hint wins; a non-errno value still gives one line', () => {
  const hint = 'free disk space, or convert elsewhere';
  assert.equal(fsError(errno('ENOSPC'), 'OUT', 'write', hint).hint, hint);
  assert.equal(fsError(new Error('boom'), '/p', 'read').message, '/p: cannot read (boom)');
});
