/** Secrets (docs/design.md §6): files that look like credentials are refused unless allowed by name. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { checkSecrets } from '../../src/pack/secrets.js';
import { LambdaMlError } from '../../src/lib/errors.js';

const RSA_KEY = [
  '-----BEGIN RSA PRIVATE KEY-----',
  'MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun',
  '-----END RSA PRIVATE KEY-----\n',
].join('\n');
const PKCS8_KEY = [
  '-----BEGIN PRIVATE KEY-----',
  'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj',
  '-----END PRIVATE KEY-----\n',
].join('\n');
const EC_KEY = [
  '-----BEGIN EC PRIVATE KEY-----',
  'MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oc5VHxmJ3ZrtoAoGCCqGSM49',
  '-----END EC PRIVATE KEY-----\n',
].join('\n');
const OPENSSH_KEY = [
  '-----BEGIN OPENSSH PRIVATE KEY-----',
  'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW',
  '-----END OPENSSH PRIVATE KEY-----\n',
].join('\n');
const CERT = [
  '-----BEGIN CERTIFICATE-----',
  'MIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJ',
  '-----END CERTIFICATE-----\n',
].join('\n');

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'lambda-ml-secrets-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function file(dir: string, label: string, text: string): [string, string] {
  const path = join(dir, ...label.split('/'));
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return [label, path];
}

/** The error checkSecrets throws for one file, or null when it passes. */
function secretError(dir: string, label: string, text: string, allow: readonly string[] = []): LambdaMlError | null {
  try {
    checkSecrets([file(dir, label, text)], allow);
    return null;
  } catch (error) {
    assert.ok(error instanceof LambdaMlError);
    return error;
  }
}

const REFUSED: [string, string, RegExp][] = [
  ['.env', 'API_KEY=abc\n', /\.env looks like an environment file/],
  ['.env.production', 'DB_PASSWORD=hunter2\n', /\.env\.production looks like an environment file/],
  ['config/.env.local', 'X=1\n', /config\/\.env\.local looks like an environment file/],
  ['.aws/credentials', '[default]\naws_access_key_id = AKIAEXAMPLE\n', /\.aws\/credentials looks like AWS credentials/],
  ['home/.aws/config', '[default]\nregion = eu-west-1\n', /AWS credentials/],
  ['id_rsa', RSA_KEY, /id_rsa looks like an SSH key/],
  ['keys/id_ed25519', OPENSSH_KEY, /SSH key/],
  ['id_rsa.pub', 'ssh-rsa AAAAB3Nza user@host\n', /SSH key/],
  ['.npmrc', '//registry.npmjs.org/:_authToken=npm_abc\n', /a credentials file/],
  ['.ssh/known_hosts', 'github.com ssh-ed25519 AAAA\n', /SSH folder/],
  ['certs/store.p12', 'binary', /key store/],
  ['key.pem', RSA_KEY, /key\.pem holds a PEM private key/],
  ['tls/server.key', PKCS8_KEY, /server\.key holds a PEM private key/],
  ['tls/ec.pem', EC_KEY, /PEM private key/],
  ['node_modules/pkg/test/fixtures/key.pem', `${CERT}${RSA_KEY}`, /PEM private key/],
];

test('refuses .env*, AWS credentials, SSH and PEM private keys with a one-line error and the allowSecrets fix', (t) => {
  const dir = tempDir(t);
  for (const [label, text, message] of REFUSED) {
    const error = secretError(dir, label, text);
    assert.ok(error, `${label} should be refused`);
    assert.equal(error.code, 'input', label);
    assert.match(error.message, message, label);
    assert.ok(!error.message.includes('\n'), `${label}: one line`);
    assert.match(error.message, /it would ship inside the function/, label);
    assert.equal(error.hint, `delete it from the package, or allow it by name: "allowSecrets": ["${label}"]`, label);
  }
});

test('allowSecrets lets a file through by its path or its name', (t) => {
  const dir = tempDir(t);
  assert.equal(secretError(dir, '.env.production', 'A=1\n', ['.env.production']), null);
  assert.equal(secretError(dir, 'config/.env', 'A=1\n', ['.env']), null, 'a bare name matches in any folder');
  assert.equal(secretError(dir, 'tls/key.pem', RSA_KEY, ['tls/key.pem']), null);
  // Allowing one file does not allow another, nor a name that merely ends the same way.
  assert.ok(secretError(dir, '.env.local', 'A=1\n', ['.env']));
  assert.ok(secretError(dir, 'x/my.env', 'A=1\n', ['.env']) === null, 'my.env is not an env file by name');
  assert.ok(secretError(dir, 'tls/other.pem', RSA_KEY, ['tls/key.pem']));
});

test('public certificates and ordinary files pass', (t) => {
  const dir = tempDir(t);
  const ok: [string, string][] = [
    ['botocore/cacert.pem', CERT.repeat(20)],
    ['certs/ca.crt', CERT],
    ['keys/readme.key', 'not a key at all\n'],
    ['environment.js', 'export const env = process.env;\n'],
    ['docs/.envrc.md', 'how to use direnv\n'],
    ['src/private-key-handling.js', RSA_KEY], // not a key extension: only names and key files are checked
  ];
  const files = ok.map(([label, text]) => file(dir, label, text));
  assert.doesNotThrow(() => checkSecrets(files, []));
});
