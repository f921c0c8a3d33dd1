/**
 * Parsers for flag values, given to commander as an option's argParser: a bad value is a one-line input error
 * (exit 2) naming the flag, thrown while argv is parsed, before any work starts (docs/design.md, exit codes).
 */
import { inputError } from '../lib/errors.js';

/** A whole number within [min, max], e.g. `--top must be a whole number from 1 to 1000 (got "abc")`. */
export function wholeNumber(flag: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const text = value.trim();
    const n = /^[+-]?\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      const example = Math.min(max, Math.max(min, 10));
      const message = `${flag} must be a whole number from ${min} to ${max} (got "${value}")`;
      throw inputError(message, `e.g. ${flag} ${example}`);
    }
    return n;
  };
}

/** Checks that `value` is an http:// or https:// URL; returns the error message, or null when it is one. */
export function urlProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a URL';
  }
  const isHttp = url.protocol === 'http:' || url.protocol === 'https:';
  if (!isHttp) return `must use http:// or https://, not ${url.protocol}//`;
  if (url.hostname === '') return 'has no host';
  return null;
}

/** An http(s) URL (endpoints of AWS emulators and S3-compatible servers). */
export function httpUrl(flag: string): (value: string) => string {
  return (value) => {
    const problem = urlProblem(value);
    const hint = `give an http(s) URL, e.g. ${flag} http://127.0.0.1:4566`;
    if (problem) throw inputError(`${flag} ${problem} (got "${value}")`, hint);
    return value;
  };
}

// The AWS SDK puts the region into the endpoint's host name, so it must be one host name label.
const REGION = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** An AWS region name such as eu-west-1. */
export function regionName(flag: string): (value: string) => string {
  return (value) => {
    const example = flag.startsWith('--') ? `${flag} eu-west-1` : `${flag}=eu-west-1`; // a flag or a variable
    if (!REGION.test(value)) throw inputError(`${flag} "${value}" is not an AWS region name`, `e.g. ${example}`);
    return value;
  };
}

// Lambda's alias Name pattern (CreateAlias API reference): letters, digits, - and _, 1–128, not all digits.
const ALIAS = /^(?!\d+$)[A-Za-z0-9_-]{1,128}$/;

/** A Lambda alias name. */
export function aliasName(flag: string): (value: string) => string {
  return (value) => {
    if (!ALIAS.test(value)) {
      const hint = 'use 1–128 letters, digits, - or _ (not only digits), e.g. live';
      throw inputError(`${flag} "${value}" is not a Lambda alias name`, hint);
    }
    return value;
  };
}
