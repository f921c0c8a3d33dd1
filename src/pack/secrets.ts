/** Refuses files that look like secrets (docs/design.md §6) unless the config allows them by name. */
import { openSync, readSync, closeSync } from 'node:fs';
import { inputError } from '../lib/errors.js';

const SECRET_NAMES: readonly [RegExp, string][] = [
  [/(^|\/)\.env(\.[^/]*)?$/, 'an environment file'],
  [/(^|\/)\.aws\/(credentials|config)$/, 'AWS credentials'],
  [/(^|\/)id_(rsa|dsa|ecdsa|ed25519)(\.pub)?$/, 'an SSH key'],
  [/(^|\/)\.(npmrc|netrc|pgpass|git-credentials)$/, 'a credentials file'],
  [/(^|\/)\.ssh\//, 'an SSH folder file'],
  [/\.(p12|pfx|keystore|jks)$/i, 'a key store'],
];
const KEY_EXT = /\.(pem|key|crt|der|asc)$/i;
const PRIVATE_KEY = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/;

/** Throws for the first secret-looking file; `files` are [relative label, absolute path]. */
export function checkSecrets(files: readonly (readonly [string, string])[], allow: readonly string[]): void {
  const allowed = (label: string) => allow.some((a) => label === a || label.endsWith(`/${a}`));
  for (const [label, path] of files) {
    if (allowed(label)) continue;
    const named = SECRET_NAMES.find(([re]) => re.test(label));
    if (named)
      throw inputError(
        `${label} looks like ${named[1]}; it would ship inside the function`,
        `delete it from the package, or allow it by name: "allowSecrets": ["${label}"]`,
      );
    if (KEY_EXT.test(label) && PRIVATE_KEY.test(head(path))) {
      throw inputError(
        `${label} holds a PEM private key; it would ship inside the function`,
        `delete it from the package, or allow it by name: "allowSecrets": ["${label}"]`,
      );
    }
  }
}

function head(path: string): string {
  const buffer = Buffer.alloc(8192);
  const fd = openSync(path, 'r');
  try {
    return buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, 0)).toString('latin1');
  } finally {
    closeSync(fd);
  }
}
