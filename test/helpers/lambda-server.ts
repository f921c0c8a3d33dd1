/**
 * A loopback AWS Lambda REST endpoint for the real @aws-sdk/client-lambda (routes as the SDK's schema serialises
 * them), with Lambda's state machine (Pending / InProgress, 409 on writes meanwhile), its checks (69,905,067-byte
 * request cap, 262,144,000 unzipped bytes for function + layers, role ARN format, unknown layers, 5 layers, env 4 KB)
 * and its JSON error bodies. It also serves layer zips at Content.Location with HTTP Range support, implements the
 * S3 bucket-notification routes s3rver lacks (GET/PUT /<bucket>?notification), and proxies every other request to
 * s3rver untouched (same Host header, so s3rver's SigV4 check still passes). So one endpoint serves Lambda and S3,
 * as LocalStack does: deploy needs a single --endpoint-url. Every call is recorded in `calls`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetObjectCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import yauzl from 'yauzl';
import { findRuntime, isoDay } from '../../src/runtimes/table.js';
import {
  findOverlap,
  notificationXml,
  parseNotificationXml,
  type BucketNotification,
} from './lambda-server-notifications.js';

/** An error to answer instead of handling a call. */
export interface InjectedFailure {
  readonly status: number;
  readonly type: string;
  readonly message: string;
}

/** One request the server received. */
export interface ServerCall {
  readonly op: string;
  readonly params: Record<string, unknown>;
  status: number;
}

/** A range request against a layer's Content.Location. */
export interface RangeRequest {
  readonly layer: string;
  readonly range: string | null;
  readonly servedBytes: number;
}

export interface LambdaServerOptions {
  /** s3rver endpoint: S3 requests are proxied there and S3 code (S3Bucket/S3Key) is read from there. */
  readonly s3Endpoint?: string;
  readonly s3Credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly region?: string;
  readonly accountId?: string;
  /** How long a create/update stays Pending/InProgress (ms). */
  readonly updateDelayMs?: number;
  /** Roles that exist but Lambda cannot assume (answered InvalidParameterValueException). */
  readonly unassumableRoles?: readonly string[];
  readonly accountLimits?: {
    readonly CodeSizeUnzipped?: number;
    readonly CodeSizeZipped?: number;
    readonly TotalCodeSize?: number;
  };
  /**
   * The day runtime block dates are judged on (default: now), from src/runtimes/lambda-runtimes.json as AWS applies
   * them.
   */
  readonly now?: () => Date;
}

interface LayerVersion {
  readonly arn: string;
  readonly id: string;
  readonly zip: Buffer;
  readonly unzippedBytes: number;
  readonly sha256: string;
}

interface Alias {
  Name: string;
  FunctionVersion: string;
  AliasArn: string;
  Description: string;
  RevisionId: string;
}
interface Statement {
  Sid: string;
  Effect: 'Allow';
  Principal: { Service: string };
  Action: string;
  Resource: string;
  Condition?: Record<string, Record<string, string>>;
}

interface FunctionState {
  config: Record<string, any>;
  unzippedBytes: number;
  busy: 'create' | 'update' | null;
  busyUntil: number;
  versions: Map<string, Record<string, any>>;
  lastPublished: { fingerprint: string; version: string } | null;
  nextVersion: number;
  aliases: Map<string, Alias>;
  policies: Map<string, Statement[]>; // by qualifier ('' = unqualified)
  reserved: number | null; // PutFunctionConcurrency
  eventInvoke: Map<string, EventInvokeConfig>; // by qualifier ('' = unqualified)
}

interface EventInvokeConfig {
  MaximumRetryAttempts?: number;
  MaximumEventAgeInSeconds?: number;
  DestinationConfig?: { OnSuccess?: { Destination?: string }; OnFailure?: { Destination?: string } };
  LastModified: number;
}

/** Lambda and S3 writes: what a "no change" redeploy must not send. */
export const WRITE_OPS = new Set([
  'CreateFunction',
  'UpdateFunctionCode',
  'UpdateFunctionConfiguration',
  'PublishVersion',
  'CreateAlias',
  'UpdateAlias',
  'AddPermission',
  'RemovePermission',
  'DeleteFunction',
  'PutBucketNotificationConfiguration',
  'PutFunctionConcurrency',
  'PutFunctionEventInvokeConfig',
  'UpdateFunctionEventInvokeConfig',
  'PutObject',
  'CreateMultipartUpload',
  'UploadPart',
  'CompleteMultipartUpload',
  'CopyObject',
  'DeleteObject',
  'CreateBucket',
]);

/** AWS's limits, as its error messages quote them. */
const REQUEST_CAP = 69_905_067;
const UNZIPPED_CAP = 262_144_000;
const ROLE_PATTERN = /^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/;
const LAYER_PATTERN =
  /^arn:[a-zA-Z0-9-]+:lambda:[a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\d{1}:\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+$/;
const DESTINATION_PATTERN = /^$|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9-])+:([a-z]{2}(-gov)?-[a-z]+-\d{1})?:(\d{12})?:(.*)/;
/** The account's concurrency, and the unreserved part Lambda keeps (PutFunctionConcurrency refuses to go below it). */
const ACCOUNT_CONCURRENCY = 1000;
const MIN_UNRESERVED = 100;
const RUNTIME_PATTERN = /^(nodejs\d+\.x|python3\.\d+|java\d+(\.al2)?|provided(\.al2(023)?)?|ruby\d\.\d|dotnet\d+)$/;

class ApiError extends Error {
  readonly status: number;
  readonly type: string;
  readonly extra: Record<string, unknown>;
  constructor(status: number, type: string, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.status = status;
    this.type = type;
    this.extra = extra;
  }
}

/** AWS's answer to a create or update on a runtime past its block date. */
const runtimeRetired = (runtime: string) =>
  invalid(
    `The runtime parameter of ${runtime} is no longer supported for creating or updating AWS Lambda ` +
      `functions. We recommend you use a supported runtime while creating or updating functions.`,
  );

const notFound = (message = 'The resource you requested does not exist.') =>
  new ApiError(404, 'ResourceNotFoundException', message);
const invalid = (message: string) => new ApiError(400, 'InvalidParameterValueException', message);
const validation = (value: unknown, field: string, constraint: string) =>
  new ApiError(
    400,
    'ValidationException',
    `1 validation error detected: Value '${String(value)}' at '${field}' failed to satisfy constraint: ${constraint}`,
  );

/** Sum of the uncompressed sizes in a zip's central directory (what Lambda counts), read with yauzl. */
export function measureZip(zip: Buffer): Promise<{ unzippedBytes: number; files: number }> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true }, (error, archive) => {
      if (error || !archive) return reject(error ?? new Error('not a zip'));
      let unzippedBytes = 0;
      let files = 0;
      archive.on('entry', (entry: yauzl.Entry) => {
        unzippedBytes += entry.uncompressedSize;
        if (!entry.fileName.endsWith('/')) files++;
        archive.readEntry();
      });
      archive.on('end', () => resolve({ unzippedBytes, files }));
      archive.on('error', reject);
      archive.readEntry();
    });
  });
}

const sha256Base64 = (data: Buffer) => createHash('sha256').update(data).digest('base64');
const lambdaDate = () => new Date().toISOString().replace('Z', '+0000');

/** Names the S3 operation of a proxied request (for the call log and failure injection). */
function s3OperationOf(
  method: string,
  path: string,
  query: URLSearchParams,
  headers: http.IncomingHttpHeaders,
): string {
  const [bucket, ...rest] = path.slice(1).split('/');
  const key = rest.join('/');
  if (!bucket) return 'ListBuckets';
  if (!key) {
    if (method === 'PUT') return 'CreateBucket';
    if (method === 'HEAD') return 'HeadBucket';
    if (method === 'DELETE') return 'DeleteBucket';
    if (query.get('list-type') === '2') return 'ListObjectsV2';
    return method === 'GET' ? 'ListObjects' : `${method}Bucket`;
  }
  if (method === 'PUT')
    return headers['x-amz-copy-source']
      ? 'CopyObject'
      : query.has('uploadId')
        ? 'UploadPart'
        : query.has('tagging')
          ? 'PutObjectTagging'
          : 'PutObject';
  if (method === 'POST')
    return query.has('uploads')
      ? 'CreateMultipartUpload'
      : query.has('uploadId')
        ? 'CompleteMultipartUpload'
        : 'PostObject';
  if (method === 'DELETE') return query.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
  if (method === 'HEAD') return 'HeadObject';
  return query.has('tagging') ? 'GetObjectTagging' : 'GetObject';
}

export interface LambdaServer {
  /** http://127.0.0.1:PORT: the Lambda endpoint, and the S3 endpoint (proxied to s3rver) for notifications. */
  readonly endpoint: string;
  readonly calls: ServerCall[];
  readonly rangeRequests: RangeRequest[];
  readonly region: string;
  readonly accountId: string;
  /** Answers the next `times` calls of `op` with this error (e.g. 429 TooManyRequestsException). */
  failNext(op: string, failure: InjectedFailure, times?: number): void;
  /** Registers a layer version served by GetLayerVersionByArn; returns its ARN. */
  addLayer(name: string, zipPath: string, version?: number): Promise<string>;
  /** The recorded calls that write (see WRITE_OPS). */
  writes(): ServerCall[];
  /** Inspection of a function's state (config of $LATEST, versions, aliases, policy statements). */
  inspect(name: string): {
    config: Record<string, any>;
    versions: string[];
    aliases: Record<string, string>;
    statements: Statement[];
    reserved: number | null;
    eventInvoke: Record<string, unknown>;
  } | null;
  /** The stored notification configuration of a bucket. */
  notification(bucket: string): BucketNotification | null;
  /** Stores a notification configuration as if set earlier (no validation). */
  seedNotification(bucket: string, xml: string): void;
  clearCalls(): void;
  stop(): Promise<void>;
}

/** Starts the server on 127.0.0.1 with a random port. */
export async function startLambdaServer(options: LambdaServerOptions = {}): Promise<LambdaServer> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '123456789012';
  const delay = options.updateDelayMs ?? 100;
  const functions = new Map<string, FunctionState>();
  const layers = new Map<string, LayerVersion>();
  const notifications = new Map<string, BucketNotification>();
  const failures = new Map<string, (InjectedFailure & { times: number })[]>();
  const calls: ServerCall[] = [];
  const rangeRequests: RangeRequest[] = [];
  const s3Url = options.s3Endpoint ? new URL(options.s3Endpoint) : null;
  const s3 = options.s3Endpoint
    ? new S3Client({
        region,
        endpoint: options.s3Endpoint,
        forcePathStyle: true,
        credentials: options.s3Credentials ?? { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
        // Lambda itself does not CRC-check the code object it reads; skipping it keeps 50 MiB reads fast
        responseChecksumValidation: 'WHEN_REQUIRED',
        requestChecksumCalculation: 'WHEN_REQUIRED',
      })
    : null;
  let endpoint = '';
  const functionArn = (name: string) => `arn:aws:lambda:${region}:${accountId}:function:${name}`;
  /** Lambda's deprecation policy: no creates from blockCreate on, no updates from blockUpdate on. */
  const assertRuntimeOpen = (runtime: string | undefined, write: 'create' | 'update') => {
    const row = runtime ? findRuntime(runtime) : undefined;
    const blockedFrom = write === 'create' ? row?.blockCreate : row?.blockUpdate;
    if (row && blockedFrom && blockedFrom <= isoDay(options.now?.() ?? new Date())) throw runtimeRetired(row.id);
  };

  function refresh(fn: FunctionState): FunctionState {
    if (fn.busy && Date.now() >= fn.busyUntil) {
      const config = fn.config;
      config.State = 'Active';
      delete config.StateReason;
      delete config.StateReasonCode;
      config.LastUpdateStatus = 'Successful';
      delete config.LastUpdateStatusReason;
      delete config.LastUpdateStatusReasonCode;
      fn.busy = null;
    }
    return fn;
  }

  /** FunctionName in a path may be a name, a full ARN or a partial ARN, with a qualifier after ':'. */
  function lookup(rawName: string): { fn: FunctionState; name: string; qualifier: string | null } {
    const parts = rawName.split(':');
    const name = rawName.startsWith('arn:') ? parts[6] : rawName.includes(':') ? parts[0] : rawName;
    const qualifier = rawName.startsWith('arn:') ? (parts[7] ?? null) : rawName.includes(':') ? parts[1] : null;
    const fn = functions.get(name);
    if (!fn) throw notFound(`Function not found: ${functionArn(name)}`);
    return { fn: refresh(fn), name, qualifier };
  }

  function resolveQualifier(fn: FunctionState, name: string, qualifier: string | null): Record<string, any> {
    if (!qualifier || qualifier === '$LATEST') return fn.config;
    const alias = fn.aliases.get(qualifier);
    const version = alias ? alias.FunctionVersion : qualifier;
    if (version === '$LATEST') return fn.config;
    const config = fn.versions.get(version);
    if (!config) throw notFound(`Function not found: ${functionArn(name)}:${qualifier}`);
    return config;
  }

  function assertIdle(fn: FunctionState): void {
    if (fn.config.State === 'Pending') {
      throw new ApiError(
        409,
        'ResourceConflictException',
        'The operation cannot be performed at this time. The function is currently in the following state: Pending',
      );
    }
    if (fn.config.LastUpdateStatus === 'InProgress') {
      throw new ApiError(
        409,
        'ResourceConflictException',
        `The operation cannot be performed at this time. An update is in ` +
          `progress for resource: ${fn.config.FunctionArn}`,
      );
    }
  }

  function startUpdate(fn: FunctionState, kind: 'create' | 'update'): void {
    fn.busy = kind;
    fn.busyUntil = Date.now() + delay;
    fn.config.RevisionId = randomUUID();
    fn.config.LastModified = lambdaDate();
    if (kind === 'create') {
      Object.assign(fn.config, {
        State: 'Pending',
        StateReason: 'The function is being created.',
        StateReasonCode: 'Creating',
      });
    } else {
      Object.assign(fn.config, {
        LastUpdateStatus: 'InProgress',
        LastUpdateStatusReason: 'The function is being updated.',
        LastUpdateStatusReasonCode: 'Updating',
      });
    }
  }

  /** Reads the code from ZipFile (base64 in the JSON) or from S3, and measures it. */
  async function loadCode(body: Record<string, any>): Promise<{ zip: Buffer; unzippedBytes: number }> {
    let zip: Buffer;
    if (body.ZipFile !== undefined) {
      if (body.S3Bucket || body.S3Key)
        throw invalid('Please do not provide other FunctionCode parameters when providing a ZipFile.');
      zip = Buffer.from(body.ZipFile, 'base64');
    } else if (body.S3Bucket && body.S3Key) {
      if (!s3)
        throw invalid(
          'Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 ' +
            'Error Message: The specified bucket does not exist',
        );
      try {
        const object = await s3.send(
          new GetObjectCommand({ Bucket: body.S3Bucket, Key: body.S3Key, VersionId: body.S3ObjectVersion }),
        );
        zip = Buffer.from(await object.Body!.transformToByteArray());
      } catch (error) {
        const code = (error as Error).name;
        throw invalid(
          `Error occurred while GetObject. S3 Error Code: ${code}. S3 Error Message: ${(error as Error).message}`,
        );
      }
    } else {
      throw invalid('Please provide a source for function code.');
    }
    try {
      return { zip, unzippedBytes: (await measureZip(zip)).unzippedBytes };
    } catch {
      throw invalid('Could not unzip uploaded file. Please check your file, then try to upload again.');
    }
  }

  /** The checks AWS makes on a configuration (create or update). */
  function validateConfig(config: Record<string, any>, unzippedBytes: number): void {
    if (!ROLE_PATTERN.test(config.Role ?? ''))
      throw validation(
        config.Role,
        'role',
        'Member must satisfy regular expression pattern: ' +
          'arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+',
      );
    if (options.unassumableRoles?.includes(config.Role))
      throw invalid('The role defined for the function cannot be assumed by Lambda.');
    if (!RUNTIME_PATTERN.test(config.Runtime ?? ''))
      throw invalid(
        `Value ${config.Runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set`,
      );
    if (config.MemorySize < 128)
      throw validation(config.MemorySize, 'memorySize', 'Member must have value greater than or equal to 128');
    if (config.MemorySize > 10240)
      throw validation(config.MemorySize, 'memorySize', 'Member must have value less than or equal to 10240');
    if (config.Timeout < 1 || config.Timeout > 900)
      throw validation(config.Timeout, 'timeout', 'Member must have value less than or equal to 900');
    const tmp = config.EphemeralStorage?.Size ?? 512;
    if (tmp < 512 || tmp > 10240)
      throw validation(tmp, 'ephemeralStorage.size', 'Member must have value between 512 and 10240');
    const layerArns: string[] = (config.Layers ?? []).map((layer: { Arn: string }) => layer.Arn);
    if (layerArns.length > 5) throw invalid('Cannot reference more than 5 layers.');
    let total = unzippedBytes;
    for (const arn of layerArns) {
      if (!LAYER_PATTERN.test(arn))
        throw validation(arn, 'layers', `Member must satisfy regular expression pattern: ${LAYER_PATTERN.source}`);
      const layer = layers.get(arn);
      if (!layer) {
        if (arn.split(':')[4] !== accountId)
          throw new ApiError(
            403,
            'AccessDeniedException',
            `User: arn:aws:iam::${accountId}:user/deployer is not authorized to perform: lambda:GetLayerVersion ` +
              `on resource: ${arn} because no resource-based policy allows the lambda:GetLayerVersion action`,
          );
        throw invalid(`Layer version ${arn} does not exist.`);
      }
      total += layer.unzippedBytes;
    }
    if (total > UNZIPPED_CAP) throw invalid(`Unzipped size must be smaller than ${UNZIPPED_CAP} bytes`);
    const env = JSON.stringify(config.Environment?.Variables ?? {});
    if (Buffer.byteLength(env) > 4096)
      throw invalid(
        `Lambda was unable to configure your environment variables because the environment ` +
          `variables you have provided exceeded the 4KB limit. String measured: ${env}`,
      );
  }

  const layerRefs = (arns: string[] | undefined) =>
    (arns ?? []).map((arn) => ({ Arn: arn, CodeSize: layers.get(arn)?.zip.length ?? 0 }));

  async function createFunction(body: Record<string, any>): Promise<[number, unknown]> {
    const name = body.FunctionName;
    if (functions.has(name)) throw new ApiError(409, 'ResourceConflictException', `Function already exist: ${name}`);
    const code = await loadCode(body.Code ?? {});
    const config: Record<string, any> = {
      FunctionName: name,
      FunctionArn: functionArn(name),
      Runtime: body.Runtime,
      Role: body.Role,
      Handler: body.Handler,
      CodeSize: code.zip.length,
      Description: body.Description ?? '',
      Timeout: body.Timeout ?? 3,
      MemorySize: body.MemorySize ?? 128,
      CodeSha256: sha256Base64(code.zip),
      Version: '$LATEST',
      TracingConfig: { Mode: 'PassThrough' },
      PackageType: 'Zip',
      Architectures: body.Architectures ?? ['x86_64'],
      EphemeralStorage: body.EphemeralStorage ?? { Size: 512 },
      Layers: layerRefs(body.Layers),
      SnapStart: { ApplyOn: 'None', OptimizationStatus: 'Off' },
      ...(body.Environment?.Variables ? { Environment: { Variables: body.Environment.Variables } } : {}),
    };
    validateConfig(config, code.unzippedBytes);
    assertRuntimeOpen(config.Runtime, 'create');
    const fn: FunctionState = {
      config,
      unzippedBytes: code.unzippedBytes,
      busy: null,
      busyUntil: 0,
      versions: new Map(),
      lastPublished: null,
      nextVersion: 1,
      aliases: new Map(),
      policies: new Map(),
      reserved: null,
      eventInvoke: new Map(),
    };
    startUpdate(fn, 'create');
    functions.set(name, fn);
    if (body.Publish) publish(fn, name);
    return [201, fn.config];
  }

  function fingerprint(config: Record<string, any>): string {
    const {
      RevisionId,
      LastModified,
      State,
      StateReason,
      StateReasonCode,
      LastUpdateStatus,
      LastUpdateStatusReason,
      LastUpdateStatusReasonCode,
      ...rest
    } = config;
    return JSON.stringify(rest);
  }

  /** Lambda publishes nothing new when $LATEST did not change since the last version: it returns that version. */
  function publish(fn: FunctionState, name: string, description?: string): Record<string, any> {
    const print = fingerprint(fn.config);
    if (fn.lastPublished?.fingerprint === print) return fn.versions.get(fn.lastPublished.version)!;
    const version = String(fn.nextVersion++);
    const snapshot = {
      ...structuredClone(fn.config),
      Version: version,
      FunctionArn: `${functionArn(name)}:${version}`,
      Description: description ?? fn.config.Description,
      State: 'Active',
      LastUpdateStatus: 'Successful',
    };
    fn.versions.set(version, snapshot);
    fn.lastPublished = { fingerprint: print, version };
    return snapshot;
  }

  const aliasOut = (alias: Alias) => ({ ...alias, RoutingConfig: undefined });

  const reservedTotal = () => [...functions.values()].reduce((sum, fn) => sum + (fn.reserved ?? 0), 0);
  const qualifiedArn = (name: string, qualifier: string | null) =>
    `${functionArn(name)}${qualifier ? `:${qualifier}` : ''}`;
  /** The config's key: an alias or version must exist ($LATEST is the unqualified function). */
  function eventInvokeKey(fn: FunctionState, name: string, qualifier: string | null): string {
    if (!qualifier || qualifier === '$LATEST') return '';
    if (!fn.aliases.has(qualifier) && !fn.versions.has(qualifier))
      throw notFound(`Function not found: ${qualifiedArn(name, qualifier)}`);
    return qualifier;
  }
  const eventInvokeOut = (name: string, qualifier: string | null, config: EventInvokeConfig) => ({
    FunctionArn: qualifiedArn(name, qualifier),
    ...config,
  });

  /** PutFunctionEventInvokeConfig's checks (API reference: ranges, the Destination pattern, destination types). */
  function checkEventInvoke(body: Record<string, any>): void {
    const retries = body.MaximumRetryAttempts;
    if (retries !== undefined && (retries < 0 || retries > 2)) {
      throw validation(
        retries,
        'maximumRetryAttempts',
        `Member must have value ${retries < 0 ? 'greater than or equal to 0' : 'less than or equal to 2'}`,
      );
    }
    const age = body.MaximumEventAgeInSeconds;
    if (age !== undefined && (age < 60 || age > 21600)) {
      throw validation(
        age,
        'maximumEventAgeInSeconds',
        `Member must have value ${age < 60 ? 'greater than or equal to 60' : 'less than or equal to 21600'}`,
      );
    }
    for (const which of ['OnSuccess', 'OnFailure'] as const) {
      const destination = body.DestinationConfig?.[which]?.Destination;
      if (destination === undefined || destination === '') continue;
      const field = `destinationConfig.${which === 'OnSuccess' ? 'onSuccess' : 'onFailure'}.destination`;
      if (destination.length > 350)
        throw validation(destination, field, 'Member must have length less than or equal to 350');
      if (!DESTINATION_PATTERN.test(destination))
        throw validation(
          destination,
          field,
          `Member must satisfy regular expression pattern: ${DESTINATION_PATTERN.source}`,
        );
      const service = destination.split(':')[2];
      if (!['sqs', 'sns', 'lambda', 'events', 's3'].includes(service))
        throw invalid(`The destination ARN ${destination} is invalid.`);
      if (service === 's3' && which === 'OnSuccess')
        throw invalid('S3 destinations are not supported for OnSuccess. Use an OnFailure destination instead.');
      if (service === 'sqs' && destination.endsWith('.fifo'))
        throw invalid(`The destination ARN ${destination} is invalid. FIFO queues are not supported.`);
    }
  }

  /** Handles one Lambda REST call; returns [status, JSON body]. */
  async function lambdaRoute(
    method: string,
    path: string,
    query: URLSearchParams,
    raw: Buffer,
    record: ServerCall,
  ): Promise<[number, unknown]> {
    const segments = path.split('/').slice(1).map(decodeURIComponent);
    const [apiVersion, collection, rawName, sub, subName] = segments;
    const op = record.op;
    // The request cap is checked before anything else, on the raw request (base64 ZipFile inside JSON)
    if ((op === 'UpdateFunctionCode' || op === 'CreateFunction') && raw.length > REQUEST_CAP) {
      throw new ApiError(
        413,
        'RequestEntityTooLargeException',
        `Request must be smaller than ${REQUEST_CAP} bytes for the ${op} operation`,
      );
    }
    const body: Record<string, any> = raw.length > 0 ? JSON.parse(raw.toString('utf8')) : {};
    const params: Record<string, unknown> = { ...body };
    if (typeof body.ZipFile === 'string') params.ZipFile = `<${Buffer.from(body.ZipFile, 'base64').length} bytes>`;
    if (typeof body.Code?.ZipFile === 'string')
      params.Code = { ...body.Code, ZipFile: `<${Buffer.from(body.Code.ZipFile, 'base64').length} bytes>` };
    if (rawName && collection === 'functions') params.FunctionName = rawName;
    for (const [key, value] of query) if (key !== 'find') params[key] = value;
    if (sub === 'aliases' && subName) params.Name = subName;
    Object.assign(record.params, params);
    void apiVersion;

    switch (op) {
      case 'GetAccountSettings': {
        const used = [...functions.values()].reduce(
          (a, fn) => a + fn.config.CodeSize + [...fn.versions.values()].reduce((b, v) => b + v.CodeSize, 0),
          0,
        );
        return [
          200,
          {
            AccountLimit: {
              TotalCodeSize: 80_530_636_800,
              CodeSizeUnzipped: UNZIPPED_CAP,
              CodeSizeZipped: 52_428_800,
              ConcurrentExecutions: ACCOUNT_CONCURRENCY,
              UnreservedConcurrentExecutions: ACCOUNT_CONCURRENCY - reservedTotal(),
              ...options.accountLimits,
            },
            AccountUsage: { TotalCodeSize: used, FunctionCount: functions.size },
          },
        ];
      }
      case 'GetLayerVersionByArn': {
        const arn = query.get('Arn') ?? '';
        if (!LAYER_PATTERN.test(arn))
          throw validation(arn, 'arn', `Member must satisfy regular expression pattern: ${LAYER_PATTERN.source}`);
        const layer = layers.get(arn);
        if (!layer) throw notFound();
        const parts = arn.split(':');
        return [
          200,
          {
            Content: {
              Location:
                `${endpoint}/_layer-content/${layer.id}?X-Amz-Algorithm=AWS4-HMAC-SHA256&` +
                `X-Amz-Expires=600&X-Amz-Signature=${randomUUID().replace(/-/g, '')}`,
              CodeSha256: layer.sha256,
              CodeSize: layer.zip.length,
            },
            LayerArn: parts.slice(0, 7).join(':'),
            LayerVersionArn: arn,
            Version: Number(parts[7]),
            CreatedDate: lambdaDate(),
            Description: '',
            CompatibleRuntimes: ['nodejs24.x', 'python3.12'],
            CompatibleArchitectures: ['x86_64', 'arm64'],
          },
        ];
      }
      case 'CreateFunction':
        return createFunction(body);
    }
    const { fn, name, qualifier: inlineQualifier } = lookup(rawName);
    const qualifier = query.get('Qualifier') ?? inlineQualifier;
    switch (op) {
      case 'GetFunction':
        return [
          200,
          {
            Configuration: resolveQualifier(fn, name, qualifier),
            Code: { RepositoryType: 'S3', Location: `${endpoint}/_code/${name}?X-Amz-Signature=x` },
          },
        ];
      case 'GetFunctionConfiguration':
        return [200, resolveQualifier(fn, name, qualifier)];
      case 'UpdateFunctionCode': {
        assertIdle(fn);
        const code = await loadCode(body);
        const architectures = body.Architectures ?? fn.config.Architectures;
        validateConfig({ ...fn.config, Architectures: architectures }, code.unzippedBytes);
        assertRuntimeOpen(fn.config.Runtime, 'update');
        if (body.DryRun) return [200, fn.config];
        Object.assign(fn.config, {
          CodeSha256: sha256Base64(code.zip),
          CodeSize: code.zip.length,
          Architectures: architectures,
        });
        fn.unzippedBytes = code.unzippedBytes;
        startUpdate(fn, 'update');
        if (body.Publish) publish(fn, name);
        return [200, fn.config];
      }
      case 'UpdateFunctionConfiguration': {
        assertIdle(fn);
        if (body.RevisionId && body.RevisionId !== fn.config.RevisionId)
          throw new ApiError(
            412,
            'PreconditionFailedException',
            'The Revision Id provided does not match the latest Revision Id. Call the ' +
              'GetFunction/GetAlias API to retrieve the latest Revision Id',
          );
        const next = { ...fn.config };
        for (const key of ['Role', 'Handler', 'Runtime', 'MemorySize', 'Timeout', 'EphemeralStorage', 'Description'])
          if (body[key] !== undefined) next[key] = body[key];
        if (body.Layers !== undefined) next.Layers = layerRefs(body.Layers);
        if (body.Environment !== undefined) {
          if (body.Environment.Variables && Object.keys(body.Environment.Variables).length > 0)
            next.Environment = { Variables: body.Environment.Variables };
          else delete next.Environment;
        }
        validateConfig(next, fn.unzippedBytes);
        assertRuntimeOpen(next.Runtime, 'update');
        fn.config = next;
        startUpdate(fn, 'update');
        return [200, fn.config];
      }
      case 'PublishVersion': {
        assertIdle(fn);
        if (body.CodeSha256 && body.CodeSha256 !== fn.config.CodeSha256) {
          throw invalid(
            `CodeSHA256 (${body.CodeSha256}) is different from current CodeSHA256 in $LATEST ` +
              `(${fn.config.CodeSha256}). Please try again with the current CodeSHA256.`,
          );
        }
        return [201, publish(fn, name, body.Description)];
      }
      case 'GetAlias': {
        const alias = fn.aliases.get(subName);
        if (!alias) throw notFound(`Cannot find alias arn: ${functionArn(name)}:${subName}`);
        return [200, aliasOut(alias)];
      }
      case 'CreateAlias': {
        if (fn.aliases.has(body.Name))
          throw new ApiError(
            409,
            'ResourceConflictException',
            `Alias already exists: ${functionArn(name)}:${body.Name}`,
          );
        if (!/^(?!^[0-9]+$)([a-zA-Z0-9-_]+)$/.test(body.Name ?? ''))
          throw validation(
            body.Name,
            'name',
            'Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)',
          );
        if (body.FunctionVersion !== '$LATEST' && !fn.versions.has(body.FunctionVersion))
          throw notFound(`Function not found: ${functionArn(name)}:${body.FunctionVersion}`);
        const alias: Alias = {
          Name: body.Name,
          FunctionVersion: body.FunctionVersion,
          AliasArn: `${functionArn(name)}:${body.Name}`,
          Description: body.Description ?? '',
          RevisionId: randomUUID(),
        };
        fn.aliases.set(body.Name, alias);
        return [201, aliasOut(alias)];
      }
      case 'UpdateAlias': {
        const alias = fn.aliases.get(subName);
        if (!alias) throw notFound(`Alias not found: ${functionArn(name)}:${subName}`);
        if (body.FunctionVersion && body.FunctionVersion !== '$LATEST' && !fn.versions.has(body.FunctionVersion))
          throw notFound(`Function not found: ${functionArn(name)}:${body.FunctionVersion}`);
        if (body.FunctionVersion) alias.FunctionVersion = body.FunctionVersion;
        if (body.Description !== undefined) alias.Description = body.Description;
        alias.RevisionId = randomUUID();
        return [200, aliasOut(alias)];
      }
      case 'AddPermission': {
        if (qualifier) resolveQualifier(fn, name, qualifier);
        const key = qualifier ?? '';
        const statements = fn.policies.get(key) ?? [];
        if (statements.some((s) => s.Sid === body.StatementId)) {
          throw new ApiError(
            409,
            'ResourceConflictException',
            `The statement id (${body.StatementId}) provided already exists. Please ` +
              `provide a new statement id, or remove the existing statement.`,
          );
        }
        const condition: Record<string, Record<string, string>> = {};
        if (body.SourceAccount) condition.StringEquals = { 'AWS:SourceAccount': body.SourceAccount };
        if (body.SourceArn) condition.ArnLike = { 'AWS:SourceArn': body.SourceArn };
        const statement: Statement = {
          Sid: body.StatementId,
          Effect: 'Allow',
          Principal: { Service: body.Principal },
          Action: body.Action,
          Resource: qualifier ? `${functionArn(name)}:${qualifier}` : functionArn(name),
          ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
        };
        fn.policies.set(key, [...statements, statement]);
        return [201, { Statement: JSON.stringify(statement) }];
      }
      case 'GetFunctionConcurrency':
        return [200, fn.reserved === null ? {} : { ReservedConcurrentExecutions: fn.reserved }];
      case 'PutFunctionConcurrency': {
        if (inlineQualifier) throw invalid(`Unsupported qualifier for this operation: ${inlineQualifier}`);
        const n = body.ReservedConcurrentExecutions;
        if (typeof n !== 'number') throw validation(n, 'reservedConcurrentExecutions', 'Member must not be null');
        if (n < 0)
          throw validation(n, 'reservedConcurrentExecutions', 'Member must have value greater than or equal to 0');
        if (ACCOUNT_CONCURRENCY - (reservedTotal() - (fn.reserved ?? 0) + n) < MIN_UNRESERVED) {
          throw invalid(
            `Specified ReservedConcurrentExecutions for function decreases account's ` +
              `UnreservedConcurrentExecution below its minimum value of [${MIN_UNRESERVED}].`,
          );
        }
        fn.reserved = n;
        return [200, { ReservedConcurrentExecutions: n }];
      }
      case 'GetFunctionEventInvokeConfig': {
        const config = fn.eventInvoke.get(eventInvokeKey(fn, name, qualifier));
        if (!config) throw notFound(`The function ${qualifiedArn(name, qualifier)} doesn't have an EventInvokeConfig`);
        return [200, eventInvokeOut(name, qualifier, config)];
      }
      case 'PutFunctionEventInvokeConfig':
      case 'UpdateFunctionEventInvokeConfig': {
        const key = eventInvokeKey(fn, name, qualifier);
        const before = fn.eventInvoke.get(key);
        if (op === 'UpdateFunctionEventInvokeConfig' && !before) {
          throw notFound(`The function ${qualifiedArn(name, qualifier)} doesn't have an EventInvokeConfig`);
        }
        checkEventInvoke(body);
        // Put replaces every setting (an omitted one is removed); Update changes only what it is given
        const base = op === 'PutFunctionEventInvokeConfig' ? {} : structuredClone(before!);
        const next: EventInvokeConfig = { ...base, LastModified: Date.now() / 1000 };
        if (body.MaximumRetryAttempts !== undefined) next.MaximumRetryAttempts = body.MaximumRetryAttempts;
        if (body.MaximumEventAgeInSeconds !== undefined) next.MaximumEventAgeInSeconds = body.MaximumEventAgeInSeconds;
        if (body.DestinationConfig !== undefined)
          next.DestinationConfig = { ...next.DestinationConfig, ...body.DestinationConfig };
        fn.eventInvoke.set(key, next);
        return [200, eventInvokeOut(name, qualifier, next)];
      }
      case 'GetPolicy': {
        if (qualifier) resolveQualifier(fn, name, qualifier);
        const statements = fn.policies.get(qualifier ?? '') ?? [];
        if (statements.length === 0) throw notFound();
        return [
          200,
          {
            Policy: JSON.stringify({ Version: '2012-10-17', Id: 'default', Statement: statements }),
            RevisionId: fn.config.RevisionId,
          },
        ];
      }
    }
    throw new ApiError(404, 'UnknownOperationException', `Unknown operation ${method} ${path}`);
  }

  /** Lambda's REST route -> operation name, as the SDK's schema serialises each command. */
  function lambdaOperation(method: string, path: string, query: URLSearchParams): string | null {
    const s = path.split('/').slice(1);
    const tail = `${s.length > 2 ? '/*' : ''}${s.length > 3 ? `/${s[3]}` : ''}${s.length > 4 ? '/*' : ''}`;
    const key = `${method} /${s[0]}/${s[1]}${tail}`;
    const table: Record<string, string> = {
      'GET /2016-08-19/account-settings': 'GetAccountSettings',
      'POST /2015-03-31/functions': 'CreateFunction',
      'GET /2015-03-31/functions/*': 'GetFunction',
      'GET /2015-03-31/functions/*/configuration': 'GetFunctionConfiguration',
      'PUT /2015-03-31/functions/*/configuration': 'UpdateFunctionConfiguration',
      'PUT /2015-03-31/functions/*/code': 'UpdateFunctionCode',
      'POST /2015-03-31/functions/*/versions': 'PublishVersion',
      'POST /2015-03-31/functions/*/aliases': 'CreateAlias',
      'GET /2015-03-31/functions/*/aliases/*': 'GetAlias',
      'PUT /2015-03-31/functions/*/aliases/*': 'UpdateAlias',
      'POST /2015-03-31/functions/*/policy': 'AddPermission',
      'GET /2015-03-31/functions/*/policy': 'GetPolicy',
      'GET /2019-09-30/functions/*/concurrency': 'GetFunctionConcurrency',
      'PUT /2017-10-31/functions/*/concurrency': 'PutFunctionConcurrency',
      'GET /2019-09-25/functions/*/event-invoke-config': 'GetFunctionEventInvokeConfig',
      'PUT /2019-09-25/functions/*/event-invoke-config': 'PutFunctionEventInvokeConfig',
      'POST /2019-09-25/functions/*/event-invoke-config': 'UpdateFunctionEventInvokeConfig',
    };
    if (method === 'GET' && path === '/2018-10-31/layers' && query.get('find') === 'LayerVersion')
      return 'GetLayerVersionByArn';
    return table[key] ?? null;
  }

  function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    const text = body === undefined || status === 204 ? '' : JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'x-amzn-requestid': randomUUID(),
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  }

  function sendLambdaError(res: http.ServerResponse, error: ApiError) {
    const body =
      error.type === 'TooManyRequestsException'
        ? { Reason: 'CallerRateLimitExceeded', Type: 'User', message: error.message, retryAfterSeconds: '1' }
        : { Type: 'User', message: error.message, ...error.extra };
    sendJson(res, error.status, body, { 'x-amzn-errortype': error.type });
  }

  function sendS3Error(res: http.ServerResponse, status: number, code: string, message: string) {
    const xml =
      `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code>` +
      `<Message>${message}</Message><RequestId>${randomUUID()}</RequestId></Error>`;
    res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) });
    res.end(xml);
  }

  function takeFailure(op: string): InjectedFailure | null {
    const queue = failures.get(op);
    const next = queue?.[0];
    if (!next) return null;
    if (--next.times <= 0) queue!.shift();
    return next;
  }

  const readBody = (req: http.IncomingMessage) =>
    new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });

  async function bucketExists(bucket: string): Promise<boolean> {
    if (!s3) return true;
    try {
      await s3.send(new HeadBucketCommand({ Bucket: bucket }));
      return true;
    } catch {
      return false;
    }
  }

  /** Layer zip bytes at Content.Location, honouring a single Range (bytes=a-b, bytes=a-, bytes=-n). */
  function serveLayer(req: http.IncomingMessage, res: http.ServerResponse, id: string) {
    const layer = [...layers.values()].find((l) => l.id === id);
    if (!layer) return sendS3Error(res, 404, 'NoSuchKey', 'The specified key does not exist.');
    const size = layer.zip.length;
    const range = req.headers.range ?? null;
    if (!range) {
      rangeRequests.push({ layer: layer.arn, range: null, servedBytes: size });
      res.writeHead(200, { 'content-length': size, 'accept-ranges': 'bytes', 'content-type': 'application/zip' });
      return res.end(req.method === 'HEAD' ? undefined : layer.zip);
    }
    const match = /^bytes=(\d*)-(\d*)$/.exec(range);
    let start: number;
    let end: number;
    if (match && match[1] === '' && match[2] !== '') {
      start = Math.max(0, size - Number(match[2]));
      end = size - 1;
    } else if (match && match[1] !== '') {
      start = Number(match[1]);
      end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
    } else {
      start = size;
      end = -1;
    }
    if (start >= size || start > end) {
      rangeRequests.push({ layer: layer.arn, range, servedBytes: 0 });
      res.writeHead(416, { 'content-range': `bytes */${size}` });
      return res.end();
    }
    const chunk = layer.zip.subarray(start, end + 1);
    rangeRequests.push({ layer: layer.arn, range, servedBytes: chunk.length });
    res.writeHead(206, {
      'content-length': chunk.length,
      'content-range': `bytes ${start}-${end}/${size}`,
      'accept-ranges': 'bytes',
      'content-type': 'application/zip',
    });
    res.end(req.method === 'HEAD' ? undefined : chunk);
  }

  /** Forwards an S3 request to s3rver byte for byte (Host kept: the SigV4 signature covers it). */
  function proxyToS3(req: http.IncomingMessage, res: http.ServerResponse, record: ServerCall) {
    if (!s3Url) return sendS3Error(res, 501, 'NotImplemented', 'no S3 endpoint behind this server');
    const upstream = http.request(
      { host: s3Url.hostname, port: s3Url.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        record.status = answer.statusCode ?? 0;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (error) => sendS3Error(res, 502, 'BadGateway', error.message));
    req.pipe(upstream);
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const query = url.searchParams;
    if (path.startsWith('/_layer-content/')) return serveLayer(req, res, path.slice('/_layer-content/'.length));
    const lambdaOp = lambdaOperation(method, path, query);
    if (lambdaOp || /^\/20\d\d-\d\d-\d\d\//.test(path)) {
      const record: ServerCall = { op: lambdaOp ?? `${method} ${path}`, params: {}, status: 0 };
      calls.push(record);
      const raw = await readBody(req);
      try {
        if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256'))
          throw new ApiError(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
        const failure = takeFailure(record.op);
        if (failure) throw new ApiError(failure.status, failure.type, failure.message);
        const [status, body] = await lambdaRoute(method, path, query, raw, record);
        record.status = status;
        return sendJson(res, status, body);
      } catch (error) {
        const apiError =
          error instanceof ApiError ? error : new ApiError(500, 'ServiceException', (error as Error).message);
        record.status = apiError.status;
        return sendLambdaError(res, apiError);
      }
    }
    const bucket = path.slice(1).split('/')[0];
    const objectKey = path.slice(bucket.length + 2); // '' for /bucket and /bucket/ (path-style SDK requests end in '/')
    const isNotification = query.has('notification') && bucket && objectKey === '';
    const op = isNotification
      ? method === 'PUT'
        ? 'PutBucketNotificationConfiguration'
        : 'GetBucketNotificationConfiguration'
      : s3OperationOf(method, path, query, req.headers);
    const record: ServerCall = {
      op,
      params: { Bucket: bucket, ...(objectKey ? { Key: decodeURIComponent(objectKey) } : {}) },
      status: 0,
    };
    calls.push(record);
    const failure = takeFailure(op);
    if (failure) {
      await readBody(req);
      record.status = failure.status;
      return sendS3Error(res, failure.status, failure.type, failure.message);
    }
    if (!isNotification) return proxyToS3(req, res, record);
    const raw = await readBody(req);
    if (!(await bucketExists(bucket))) {
      record.status = 404;
      return sendS3Error(res, 404, 'NoSuchBucket', 'The specified bucket does not exist');
    }
    if (method === 'GET') {
      const xml = notificationXml(notifications.get(bucket) ?? { entries: [], eventBridge: false });
      record.status = 200;
      res.writeHead(200, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) });
      return res.end(xml);
    }
    let config: BucketNotification;
    try {
      config = parseNotificationXml(raw.toString('utf8'), () => randomUUID());
    } catch (error) {
      record.status = 400;
      return sendS3Error(res, 400, 'MalformedXML', (error as Error).message);
    }
    record.params.configurations = config.entries.map((entry) => ({ kind: entry.kind, Id: entry.id, arn: entry.arn }));
    const overlap = findOverlap(config);
    if (overlap) {
      record.status = 400;
      return sendS3Error(res, 400, 'InvalidArgument', overlap);
    }
    // S3 checks that each function destination lets s3.amazonaws.com invoke it for this bucket
    for (const entry of config.entries.filter((e) => e.kind === 'CloudFunction')) {
      const [, , , entryRegion, entryAccount, , name, qualifier] = entry.arn.split(':');
      if (entryRegion !== region || entryAccount !== accountId) continue; // not ours to check
      const fn = functions.get(name);
      const statements = fn?.policies.get(qualifier ?? '') ?? [];
      const allowed = statements.some(
        (s) =>
          s.Principal.Service === 's3.amazonaws.com' &&
          (!s.Condition?.ArnLike || s.Condition.ArnLike['AWS:SourceArn'] === `arn:aws:s3:::${bucket}`),
      );
      if (!allowed) {
        record.status = 400;
        return sendS3Error(res, 400, 'InvalidArgument', 'Unable to validate the following destination configurations');
      }
    }
    notifications.set(bucket, config);
    record.status = 200;
    res.writeHead(200, { 'content-length': 0 });
    res.end();
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (!res.headersSent)
        sendJson(res, 500, { Type: 'Service', message: String(error) }, { 'x-amzn-errortype': 'ServiceException' });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    endpoint,
    calls,
    rangeRequests,
    region,
    accountId,
    failNext(op, failure, times = 1) {
      failures.set(op, [...(failures.get(op) ?? []), { ...failure, times }]);
    },
    async addLayer(name, zipPath, version = 1) {
      const zip = await readFile(zipPath);
      const arn = `arn:aws:lambda:${region}:${accountId}:layer:${name}:${version}`;
      layers.set(arn, {
        arn,
        id: randomUUID(),
        zip,
        unzippedBytes: (await measureZip(zip)).unzippedBytes,
        sha256: sha256Base64(zip),
      });
      return arn;
    },
    writes: () => calls.filter((call) => WRITE_OPS.has(call.op)),
    inspect(name) {
      const fn = functions.get(name);
      if (!fn) return null;
      refresh(fn);
      return {
        config: fn.config,
        versions: [...fn.versions.keys()],
        aliases: Object.fromEntries([...fn.aliases].map(([key, alias]) => [key, alias.FunctionVersion])),
        statements: [...fn.policies.values()].flat(),
        reserved: fn.reserved,
        eventInvoke: Object.fromEntries(fn.eventInvoke),
      };
    },
    notification: (bucket) => notifications.get(bucket) ?? null,
    seedNotification(bucket, xml) {
      notifications.set(
        bucket,
        parseNotificationXml(xml, () => randomUUID()),
      );
    },
    clearCalls() {
      calls.length = 0;
      rangeRequests.length = 0;
    },
    async stop() {
      s3?.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
