/** Lambda quotas (docs/design.md §2), in bytes unless named otherwise. All can be overridden in config `limits`. */

/**
 * https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html: "Unzipped size must be smaller than
 * 262144000 bytes".
 */
export const UNZIPPED_BYTES = 262_144_000;
/** Direct upload (ZipFile) cap: 50 MiB zipped. Larger code goes through S3Bucket/S3Key. */
export const ZIP_DIRECT_BYTES = 52_428_800;
/** The request cap the API enforces for ZipFile: base64 of 50 MiB, "Request must be smaller than 69905067 bytes". */
export const REQUEST_BYTES = 69_905_067;
/** Console code editor: informational only. */
export const CONSOLE_EDITOR_BYTES = 3 * 1_000_000;
/** Layers per function. */
export const MAX_LAYERS = 5;
/** Ephemeral storage (/tmp): 512 to 10,240 MB; MB here means MiB (x 1,048,576). */
export const TMP_MIN_MB = 512;
/** Lambda's default /tmp is its minimum: what a function without EphemeralStorage gets. */
export const TMP_DEFAULT_MB = TMP_MIN_MB;
export const TMP_MAX_MB = 10_240;
/** Memory: 128 to 10,240 MB. */
export const MEMORY_MIN_MB = 128;
export const MEMORY_MAX_MB = 10_240;
/**
 * CPU follows memory: "At 1,769 MB, a function has the equivalent of one vCPU", up to 6 vCPUs at 10,240 MB
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html).
 */
export const MB_PER_VCPU = 1769;
export const MAX_VCPUS = 6;
/** S3 object tags: https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-tagging.html */
export const S3_MAX_TAGS = 10;
export const S3_TAG_KEY_MAX = 128;
export const S3_TAG_VALUE_MAX = 256;

export const MiB = 1_048_576;

/** The byte limits the planner checks; every field can be overridden through config `limits`. */
export interface Limits {
  readonly unzippedBytes: number;
  readonly zipDirectBytes: number;
  readonly maxLayers: number;
}

/** Default limits (docs/design.md §2). */
export const LAMBDA_LIMITS: Limits = Object.freeze({
  unzippedBytes: UNZIPPED_BYTES,
  zipDirectBytes: ZIP_DIRECT_BYTES,
  maxLayers: MAX_LAYERS,
});
