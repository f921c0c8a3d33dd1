/**
 * Stage contracts: readonly, JSON-safe plain objects passed scan -> plan -> pack -> deploy. Sizes are integer bytes.
 */
import type { Limits } from './lib/limits.js';
import type { SideloadFormat } from './archive/tar-br-format.js';

export const STRATEGY = { BUNDLE: 'bundle', SIDELOAD_BUNDLED: 'sideload-bundled', SIDELOAD_S3: 'sideload-s3' } as const;
export type Strategy = (typeof STRATEGY)[keyof typeof STRATEGY];
export type PlanChoice = Strategy | 'auto';
export type Architecture = 'x86_64' | 'arm64';
export type PruneMode = 'off' | 'safe' | 'trace';
/** TF.js's backends: one per function (TF.js has one global backend). */
export type TfjsBackend = 'wasm' | 'cpu' | 'tensorflow';
/** What runs one model: ONNX Runtime (onnxruntime-node) or TF.js on one of its backends. */
export type ModelBackend = 'onnx' | TfjsBackend;
/** config `backend` and `models[].backend`: `auto` is onnx when every model converts, else wasm (docs/config.md). */
export type Backend = 'auto' | ModelBackend;

export interface FunctionConfig {
  readonly name: string;
  readonly runtime: string; // a Lambda runtime id of src/runtimes/lambda-runtimes.json
  readonly architecture: Architecture;
  readonly memoryMb: number;
  readonly ephemeralStorageMb: number;
  readonly timeoutS: number;
  readonly role: string | null;
  readonly handler: string | null; // default index.handler (Node) / user's own (Python)
  readonly environment: Readonly<Record<string, string>>;
  readonly alias: string;
}

export interface LayerConfig {
  readonly name: string;
  readonly zip: string | null; // absolute path
  readonly dir: string | null; // absolute path
  readonly arn: string | null;
}

export interface ModelInputConfig {
  readonly width: number;
  readonly height: number;
  readonly range: readonly [number, number];
  /** Channel order the model expects (default rgb; grey is one channel). Validated configs always set it. */
  readonly channels?: 'rgb' | 'bgr' | 'grey';
  /** Per channel, in the model's channel order, subtracted after the range mapping (default 0). */
  readonly mean?: readonly number[];
  /** Per channel, divided by after subtracting mean (default 1). */
  readonly std?: readonly number[];
}

export interface ModelConfig {
  readonly name: string;
  readonly path: string | null; // absolute: a TF.js folder / model.json, or an .h5/.keras file
  readonly s3: string | null; // s3://bucket/prefix/ where it lives at run time
  readonly labels: string | null; // absolute path of a JSON array (or {index: label})
  readonly input: ModelInputConfig;
  readonly topK: number;
  readonly threshold: number;
  readonly tag: string;
  readonly bundle: boolean; // ship inside the function zip instead of S3
  /** This model's backend; null or absent: the function's `backend`. */
  readonly backend?: Backend | null;
}

export interface Config {
  readonly configPath: string | null; // absolute; null when built from defaults
  readonly rootDir: string; // folder that relative paths resolve against
  readonly function: FunctionConfig;
  readonly region: string | null;
  readonly code: string | null;
  readonly deps: string | null;
  readonly layers: readonly LayerConfig[];
  readonly models: readonly ModelConfig[];
  readonly colors: { readonly count: number };
  readonly tags: { readonly prefix: string };
  readonly results: string | null;
  readonly artifacts: { readonly bucket: string | null; readonly prefix: string };
  readonly trigger: TriggerConfig | null;
  readonly plan: PlanChoice;
  readonly prune: PruneMode;
  readonly backend: Backend;
  readonly allowSecrets: readonly string[];
  readonly maxImageBytes: number;
  readonly limits: Limits;
  /** The soft budget: a byte check (unzipped, zipDirect, tmp, memory) above this % of its limit warns. */
  readonly warnAtPercent: number;
  /** `lambda-ml backfill` (docs/backfill.md); validated configs always set it. */
  readonly backfill?: BackfillConfig;
  /**
   * Prices for the cost estimates: src/cost/prices.json merged with config `cost.prices`; always set when validated.
   */
  readonly cost?: { readonly prices: PriceTable };
  /** The sideload archive (docs/config.md): tar.br (Node's default) or zip (Python's only); set by validation. */
  readonly sideload?: { readonly format: SideloadFormat };
}

/** The S3 trigger, and what happens to its asynchronous invocations that fail (docs/deploy.md). */
export interface TriggerConfig {
  readonly bucket: string;
  readonly prefix: string;
  readonly suffixes: readonly string[];
  /** On-failure destination: an SQS queue ARN or an s3://bucket URL; null = none. Validated configs set it. */
  readonly onFailure?: string | null;
  /** Lambda's retries of a failed asynchronous invocation, 0–2 (default 2, Lambda's own). */
  readonly maxRetryAttempts?: number;
  /** How long an event may wait in Lambda's queue, 60–21,600 s (default 21,600, Lambda's own). */
  readonly maxEventAgeS?: number;
}

/** `backfill` in config (docs/backfill.md). */
export interface BackfillConfig {
  readonly role: string | null; // the job role ARN (or --role)
  readonly maxConcurrency: number | null; // sets the function's reserved concurrency before a job
  readonly report: 'failed' | 'all'; // the completion report's scope
  readonly priority: number; // CreateJob Priority
}

/** The name of the runtime record a deps folder was scanned by (src/runtimes/registry.ts), or 'none' without deps. */
export type DepsKind = string;

/** One installed package: a Node package folder or a Python distribution. */
export interface PackageInfo {
  readonly name: string;
  readonly version: string;
  readonly path: string; // relative to the deps root, '/'-separated (Node: the package folder)
  readonly bytes: number; // its own files; nested node_modules are counted under the nested package
  readonly files: number;
  readonly topLevel: readonly string[]; // Python: import names (top_level.txt); Node: [name]
}

/** A regular file or symlink under a scanned root. */
export interface FileEntry {
  readonly path: string; // relative, '/'-separated
  readonly bytes: number; // regular file size; symlinks count their own size (as zip stores them)
  readonly mode: number; // st_mode
  readonly link: string | null; // symlink target, when a symlink
  readonly owner: string | null; // index key "name@version" of the owning package, or null
}

export interface DepsScan {
  readonly root: string | null;
  readonly kind: DepsKind;
  readonly bytes: number;
  readonly files: number;
  readonly packages: readonly PackageInfo[];
  readonly unowned: { readonly bytes: number; readonly files: number; readonly sample: readonly string[] };
  readonly entries: readonly FileEntry[];
}

export interface ProvidedPackage {
  readonly name: string;
  readonly version: string | null;
  readonly kind: string; // the runtime record whose layer folders hold it ("node", "python": src/runtimes/)
  readonly topLevel: readonly string[];
  /** The layer folder it sits in, e.g. nodejs/node_modules (its record's `layers`, src/runtimes/). */
  readonly root?: string;
}

export interface LayerScan {
  readonly name: string;
  readonly source: 'zip' | 'dir' | 'arn';
  readonly location: string;
  readonly bytes: number; // unzipped
  readonly zipBytes: number | null;
  readonly files: number;
  readonly provides: readonly ProvidedPackage[];
}

export type ModelFormat = 'tfjs-layers' | 'tfjs-graph' | 'keras-h5' | 'keras-v3';

export interface ModelScan {
  readonly name: string;
  readonly format: ModelFormat;
  readonly bytes: number; // download / on-disk bytes
  readonly memoryBytes: number; // weights as float32
  readonly location: 's3' | 'bundle';
  readonly quantization: 'uint8' | 'uint16' | 'float16' | null;
  readonly files: readonly { readonly path: string; readonly bytes: number }[];
  /**
   * What runs it, once the backends are chosen (pipeline/model-backends.ts); absent for a runtime without the
   * choice (Python). For onnx, `bytes` is the .onnx file's and `memoryBytes` its weights plus the session's.
   */
  readonly backend?: ModelBackend;
  /** Why `auto` left it on wasm, naming the layers (absent when it runs on the backend asked for). */
  readonly backendNote?: string;
}

export interface CodeScan {
  readonly root: string | null;
  readonly bytes: number;
  readonly files: number;
  readonly entries: readonly FileEntry[];
}

export interface Scan {
  readonly code: CodeScan;
  readonly deps: DepsScan;
  readonly layers: readonly LayerScan[];
  readonly models: readonly ModelScan[];
}

export type LimitName = 'unzipped' | 'zipDirect' | 'tmp' | 'memory' | 'layers';

export interface Check {
  readonly limit: LimitName;
  readonly used: number;
  readonly max: number;
  readonly ok: boolean;
  readonly blocking: boolean; // zipDirect is not: a larger zip deploys through S3
}

export interface PlanAttempt {
  readonly strategy: Strategy;
  readonly fits: boolean;
  readonly checks: readonly Check[];
}

export interface Suggestion {
  readonly kind:
    'ephemeral-storage' | 'memory' | 'move-to-layer' | 'quantize' | 'sideload' | 'prune' | 'layers' | 'trim-layer';
  readonly message: string;
  readonly savesBytes: number | null;
  readonly value: number | string | null;
}

/** The `providedBy` of deps packages the emitted handler brings itself (inlined in the Node bundle). */
export const HANDLER_PROVIDER = 'handler';

export interface PackageReport extends PackageInfo {
  readonly providedBy: string | null; // layer name, or HANDLER_PROVIDER
  readonly layerVersion: string | null;
}

/** The result of `budget` (docs/design.md §9), also the plan `package` follows. */
export interface Budget {
  readonly fits: boolean;
  readonly plan: Strategy | null;
  readonly reason: string;
  readonly runtime: string; // the name of the function's runtime record (src/runtimes/registry.ts)
  readonly components: {
    readonly code: { readonly bytes: number; readonly files: number };
    readonly deps: {
      readonly kind: DepsKind;
      readonly bytes: number;
      readonly files: number;
      readonly afterStrip: number;
      readonly afterPrune: number;
      readonly zipBytes: number | null; // the deps.zip's exact bytes; null when not measured or not a zip
      /** The sideload archive's format (tar.br for Node by default, zip for Python). */
      readonly format?: SideloadFormat;
      /** Its file name (deps.tar.br or deps.zip) and exact bytes, whatever its format; null when not measured. */
      readonly archive?: string | null;
      readonly archiveBytes?: number | null;
      /** What the extracted deps take on disk in 4 KiB blocks (the tmp check counts this); null when not measured. */
      readonly diskBytes?: number | null;
      readonly packages: readonly PackageReport[];
      readonly unowned: { readonly bytes: number; readonly files: number; readonly sample: readonly string[] };
    };
    readonly layers: readonly {
      readonly name: string;
      readonly bytes: number;
      readonly source: string;
      readonly provides: readonly string[];
      readonly packages: readonly string[];
    }[];
    readonly models: readonly {
      readonly name: string;
      readonly format: ModelFormat;
      readonly bytes: number;
      readonly memoryBytes: number;
      readonly location: 's3' | 'bundle';
      readonly quantization: string | null;
      /** What runs it (absent for a runtime without the choice). */
      readonly backend?: ModelBackend;
      readonly backendNote?: string;
    }[];
  };
  readonly checks: readonly Check[];
  readonly attempts: readonly PlanAttempt[];
  readonly suggestions: readonly Suggestion[];
  readonly warnings: readonly string[];
  readonly prune: {
    readonly mode: PruneMode;
    readonly savedBytes: number;
    readonly rules: readonly { readonly rule: string; readonly files: number; readonly bytes: number }[];
  };
}

/** The runtime config's file name: `package` writes it at the function root, the handler reads it there. */
export const RUNTIME_CONFIG_FILE = 'lambda-ml.runtime.json';

/** Runtime config that `package` writes beside the handler as RUNTIME_CONFIG_FILE. */
export interface RuntimeConfig {
  readonly version: 1;
  readonly strategy: Strategy;
  readonly sideload: null | {
    readonly zip: string | null; // deps.zip's file name in the task root when bundled (format zip only)
    readonly s3: string | null; // s3://bucket/key when fetched
    readonly sha256: string; // of the archive, whatever its format
    readonly zipBytes: number | null; // deps.zip's bytes (format zip only)
    readonly unzippedBytes: number; // file bytes once unpacked (symlinks by their target's length)
    readonly files: number;
    /** The archive's format (absent in older configs: zip). */
    readonly format?: SideloadFormat;
    /** Its file name in the task root when bundled (deps.tar.br or deps.zip), else null. */
    readonly archive?: string | null;
    /** Its exact bytes. */
    readonly archiveBytes?: number;
    /** What the unpacked tree takes on disk in 4 KiB blocks, folders included: the /tmp check needs this much. */
    readonly diskBytes?: number;
    /** Files, folders and symlinks in the archive: the reader refuses more. */
    readonly entries?: number;
  };
  readonly layerNodeModules: readonly string[]; // e.g. /opt/nodejs/node_modules
  /** The TF.js backend of the models that run on TF.js (older configs: 'auto' and 'onnx' never appear here). */
  readonly backend: TfjsBackend;
  readonly models: readonly {
    readonly name: string;
    readonly tag: string;
    /** Node: TF.js (Keras files are converted) or onnx (one model.onnx); Python: the file as it is. */
    readonly format: ModelFormat | 'onnx';
    /** What runs it: onnx, or the TF.js `backend` above (absent in older configs: that backend). */
    readonly backend?: ModelBackend;
    readonly dir: string | null; // folder in the task root when bundled
    readonly s3: string | null; // s3://bucket/prefix/ when fetched
    readonly files: readonly { readonly name: string; readonly bytes: number; readonly sha256: string }[];
    readonly labels: readonly string[];
    readonly input: ModelInputConfig;
    readonly topK: number;
    readonly threshold: number;
  }[];
  readonly colors: { readonly count: number };
  readonly tags: { readonly prefix: string };
  readonly results: string | null;
  readonly maxImageBytes: number;
}

/** One file `package` wrote. sha256Base64 is what Lambda reports as CodeSha256. */
export interface ArtifactInfo {
  readonly file: string; // relative to the --out folder
  readonly bytes: number; // zipped size
  readonly unzippedBytes: number;
  readonly files: number;
  readonly sha256: string; // hex
  readonly sha256Base64: string;
}

export interface StagedModel {
  readonly name: string;
  readonly dir: string; // relative to --out, e.g. models/category
  readonly s3: string | null; // where deploy uploads it (s3://bucket/prefix/)
  readonly files: readonly { readonly name: string; readonly bytes: number; readonly sha256: string }[];
}

/** `manifest.json` in the --out folder: what `package` built and why; `deploy` reads it. */
export interface Manifest {
  readonly schemaVersion: 1;
  readonly tool: string; // "lambda-ml 0.1.0"
  readonly function: FunctionConfig;
  readonly region: string | null;
  readonly plan: Strategy;
  readonly reason: string;
  readonly checks: readonly Check[];
  readonly artifacts: {
    readonly function: ArtifactInfo;
    readonly deps:
      | (ArtifactInfo & {
          readonly s3: string | null;
          /** The sideload archive's format, file name (= file) and bytes (= bytes), beside the zip-era fields. */
          readonly format?: SideloadFormat;
          readonly archive?: string;
          readonly archiveBytes?: number;
          /** What the extracted tree takes in 4 KiB blocks; the handler checks free /tmp against it. */
          readonly diskBytes?: number;
          readonly entries?: number;
        })
      | null;
    readonly models: readonly StagedModel[];
  };
  readonly layers: readonly { readonly name: string; readonly arn: string | null }[];
  readonly trigger: Config['trigger'];
  readonly artifactsBucket: { readonly bucket: string | null; readonly prefix: string };
  readonly runtime: RuntimeConfig;
}

/** Lambda's price per architecture (src/cost/prices.json). */
export interface LambdaPrice {
  readonly perGbSecond: number;
  readonly perMillionRequests: number;
}
/** The price table: src/cost/prices.json merged with config `cost.prices` (docs/backfill.md, "What it costs"). */
export interface PriceTable {
  readonly region: string;
  readonly currency: string;
  readonly lambda: { readonly source: string; readonly read: string } & Readonly<Record<Architecture, LambdaPrice>>;
  readonly batchOperations: {
    readonly source: string;
    readonly read: string;
    readonly perJob: number;
    readonly perMillionObjectOperations: number;
    readonly perMillionObjectsListed: number;
  };
  readonly s3Requests: {
    readonly source: string;
    readonly read: string;
    readonly perThousandGet: number;
    readonly perThousandPut: number;
    readonly perThousandList: number;
  };
}
