/** Where the AWS region comes from when the config does not say: a layer ARN names it (arn:aws:lambda:REGION:…). */
import { configError, LambdaMlError } from '../lib/errors.js';
import type { Config } from '../types.js';

const ARN_REGION = /^arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):/;

/** The region of the first layer given by ARN, or null. */
export function layerArnRegion(config: Pick<Config, 'layers'>): string | null {
  for (const layer of config.layers) {
    const match = layer.arn ? ARN_REGION.exec(layer.arn) : null;
    if (match) return match[1];
  }
  return null;
}

/** True for the SDK's "Region is missing" (no region in flags, config, env or the profile). */
export function isRegionMissing(error: unknown): boolean {
  return !(error instanceof LambdaMlError) && /region is missing/i.test((error as Error | undefined)?.message ?? '');
}

/** The one-line error for a call that needed a region nobody gave (exit 2: the config is what to fix). */
export function regionMissingError(what: string): LambdaMlError {
  const hint = 'set "region" in lambda-ml.config.json (e.g. "region": "eu-west-1"), or AWS_REGION, or pass --region';
  return configError(`${what}: no AWS region is set`, hint);
}
