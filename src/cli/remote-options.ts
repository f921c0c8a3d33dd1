/** Wires remote measurement (layers by ARN, models in S3, account limits) into a scan when the config needs it. */
import type { ScanOptions } from '../scan/scan-project.js';
import type { Config } from '../types.js';
import type { GlobalOptions, Io } from './io.js';

export interface RemoteFlags extends GlobalOptions {
  readonly accountLimits?: boolean;
  readonly region?: string;
  readonly profile?: string;
  readonly endpointUrl?: string;
}

/** Local-only for now: ARN layers and S3-only models are reported as input errors by the scanner. */
export async function remoteScanOptions(config: Config, _flags: RemoteFlags, _io: Io): Promise<{ config: Config; scan: ScanOptions }> {
  return { config, scan: {} };
}
