/** What the function should look like, from the manifest, and how a deployed configuration differs from it. */
import type { FunctionConfiguration } from '@aws-sdk/client-lambda';
import { TMP_DEFAULT_MB } from '../lib/limits.js';
import { recordFor } from '../runtimes/registry.js';
import { findRuntime } from '../runtimes/table.js';
import type { Manifest } from '../types.js';

/** The configuration deploy converges to. */
export interface DesiredFunction {
  readonly name: string;
  readonly runtime: string;
  readonly handler: string | null;
  readonly role: string | null;
  readonly memoryMb: number;
  readonly timeoutS: number;
  readonly ephemeralStorageMb: number;
  readonly architecture: 'x86_64' | 'arm64';
  readonly layers: readonly string[];
  readonly environment: Readonly<Record<string, string>>;
  readonly codeSha256: string; // base64, as Lambda reports CodeSha256
}

/** Default handler: the emitted Node classifier is `index.handler`; Python users name their own. */
export function defaultHandler(runtime: string): string | null {
  const row = findRuntime(runtime);
  return row ? recordFor(row).defaultHandler : null;
}

/** Builds the desired function from the manifest and the extra environment deploy adds. */
export function desiredFunction(manifest: Manifest, extraEnv: Readonly<Record<string, string>>): DesiredFunction {
  const fn = manifest.function;
  return {
    name: fn.name,
    runtime: fn.runtime,
    handler: fn.handler ?? defaultHandler(fn.runtime),
    role: fn.role,
    memoryMb: fn.memoryMb,
    timeoutS: fn.timeoutS,
    ephemeralStorageMb: fn.ephemeralStorageMb,
    architecture: fn.architecture,
    layers: manifest.layers.map((layer) => layer.arn).filter((arn): arn is string => Boolean(arn)),
    environment: { ...fn.environment, ...extraEnv },
    codeSha256: manifest.artifacts.function.sha256Base64,
  };
}

const sameMap = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>) => {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => b[key] === a[key]);
};

/** The UpdateFunctionConfiguration fields that differ (only those are sent: re-sending Role needs iam:PassRole). */
export function configChanges(current: FunctionConfiguration, desired: DesiredFunction): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  if (current.Runtime !== desired.runtime) changes.Runtime = desired.runtime;
  if (desired.handler !== null && current.Handler !== desired.handler) changes.Handler = desired.handler;
  if (desired.role !== null && current.Role !== desired.role) changes.Role = desired.role;
  if (current.MemorySize !== desired.memoryMb) changes.MemorySize = desired.memoryMb;
  if (current.Timeout !== desired.timeoutS) changes.Timeout = desired.timeoutS;
  if ((current.EphemeralStorage?.Size ?? TMP_DEFAULT_MB) !== desired.ephemeralStorageMb)
    changes.EphemeralStorage = { Size: desired.ephemeralStorageMb };
  const layers = (current.Layers ?? []).map((layer) => layer.Arn);
  if (layers.length !== desired.layers.length || layers.some((arn, i) => arn !== desired.layers[i]))
    changes.Layers = [...desired.layers];
  if (!sameMap(current.Environment?.Variables ?? {}, desired.environment))
    changes.Environment = { Variables: { ...desired.environment } };
  return changes;
}

/** True when Architectures differ: they change with the code (UpdateFunctionCode), not the configuration. */
export const architectureDiffers = (current: FunctionConfiguration, desired: DesiredFunction) =>
  (current.Architectures?.[0] ?? 'x86_64') !== desired.architecture;

/** True when a deployed configuration (e.g. the alias's version) is exactly what deploy would produce. */
export const matchesDesired = (current: FunctionConfiguration, desired: DesiredFunction) =>
  current.CodeSha256 === desired.codeSha256 &&
  !architectureDiffers(current, desired) &&
  Object.keys(configChanges(current, desired)).length === 0;
