/** SHA-256 in hex of bytes in memory: model files, deflate cache keys. */
import { createHash } from 'node:crypto';

export const sha256Hex = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');
