/** Wires remote measurement (layers by ARN, models in S3, account limits) into a scan when the config needs it. */
import type { AwsClients } from '../deploy/index.js';
import { isMetadataPath, providedPackages } from '../scan/layer-provides.js';
import type { ScanOptions } from '../scan/scan-project.js';
import type { Config, LayerScan, ModelScan } from '../types.js';
import { inputError } from '../lib/errors.js';
import { regionName, urlProblem } from './flag-values.js';
import type { GlobalOptions, Io } from './io.js';
import { layerArnRegion } from '../remote/region.js';

export interface RemoteFlags extends GlobalOptions {
  readonly accountLimits?: boolean;
  readonly region?: string;
  readonly profile?: string;
  readonly endpointUrl?: string;
}

/** AWS clients from the flags, the config's region and the standard chain. */
export async function clientsFor(config: Config, flags: RemoteFlags, io: Io): Promise<AwsClients> {
  checkAwsEnv(config, flags, io.env);
  const { makeClients } = await import('../deploy/index.js'); // the AWS SDK loads only when AWS is needed
  const region =
    flags.region ?? config.region ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION ?? layerArnRegion(config);
  return makeClients({ region, profile: flags.profile ?? null, endpointUrl: flags.endpointUrl ?? null, env: io.env });
}

// The SDK reads these itself and fails with a bare TypeError (Invalid URL) or "Region not accepted".
const ENDPOINT_VARS = ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_LAMBDA'] as const;

/**
 * Rejects an AWS endpoint or region variable the SDK would use but could not, naming the variable (exit 2).
 * Flags were checked while argv was parsed (flag-values.ts); a variable they override is not used, so not checked.
 */
export function checkAwsEnv(config: Config, flags: RemoteFlags, env: Io['env']): void {
  for (const name of flags.endpointUrl ? [] : ENDPOINT_VARS) {
    const value = env[name];
    const problem = value ? urlProblem(value) : null;
    const hint = 'set it to an http(s) URL such as http://127.0.0.1:4566, or unset it';
    if (problem) throw inputError(`${name} ${problem} (got "${value}")`, hint);
  }
  if (flags.region || config.region) return;
  const name = env.AWS_REGION ? 'AWS_REGION' : env.AWS_DEFAULT_REGION ? 'AWS_DEFAULT_REGION' : null;
  if (name) regionName(name)(env[name] as string);
}

/** Adds what only AWS can tell: ARN-only layers, S3-only models, and (with --account-limits) the account's limits. */
export async function remoteScanOptions(
  config: Config,
  flags: RemoteFlags,
  io: Io,
): Promise<{ config: Config; scan: ScanOptions }> {
  const needsLayers = config.layers.some((l) => !l.zip && !l.dir && l.arn);
  const needsModels = config.models.some((m) => m.path === null && m.s3);
  const local: ScanOptions = { readKerasInfo };
  if (!needsLayers && !needsModels && !flags.accountLimits) return { config, scan: local };
  const clients = await clientsFor(config, flags, io);
  const { measureLayerArn, measureS3Model, readAccountLimits } = await import('../remote/index.js');
  let next = config;
  if (flags.accountLimits) {
    const account = await readAccountLimits(clients.lambda);
    next = {
      ...config,
      limits: { ...config.limits, unzippedBytes: account.unzippedBytes, zipDirectBytes: account.zipDirectBytes },
    };
  }
  const scan: ScanOptions = {
    ...local,
    scanRemoteLayer: async (layer): Promise<LayerScan> => {
      const remote = await measureLayerArn(clients.lambda, layer.arn as string, { readFiles: isMetadataPath });
      const provides = providedPackages(
        remote.entries.map((e) => e.name),
        (path) => remote.contents[path],
      );
      return {
        name: layer.name,
        source: 'arn',
        location: layer.arn as string,
        bytes: remote.bytes,
        zipBytes: remote.zipBytes,
        files: remote.files,
        provides,
      };
    },
    scanRemoteModel: async (model): Promise<ModelScan> => {
      const remote = await measureS3Model(clients.s3, model.s3 as string);
      return {
        name: model.name,
        format: remote.format,
        bytes: remote.bytes,
        memoryBytes: remote.memoryBytes,
        location: 's3',
        quantization: remote.quantization,
        files: remote.files,
      };
    },
  };
  return { config: next, scan };
}

/** Real weight sizes of Keras files (h5wasm is loaded only when a Keras model is configured). */
async function readKerasInfo(
  path: string,
): Promise<{ memoryBytes: number; weightBytes: number; modelConfig?: unknown }> {
  const { readKerasInfo: read } = await import('../convert/index.js');
  return read(path);
}
