/** Remote measuring: layers by ARN, models in S3, the account's limits. */
export { measureLayerArn, type RemoteLayer, type MeasureLayerOptions } from './layer-arn.js';
export { measureS3Model, weightsMemoryBytes, type RemoteModel } from './s3-model.js';
export { readAccountLimits, type AccountLimits } from './account-limits.js';
export { listRemoteZip, readRemoteEntry, type RemoteZipListing } from './remote-zip.js';
export { rangeReader, type RangeReader } from './range-reader.js';
export { parseS3Url, formatS3Url, joinKey, type S3Location } from '../lib/s3-url.js';
export { layerArnRegion } from './region.js';
