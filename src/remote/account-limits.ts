/** The account's own Lambda byte limits (GetAccountSettings), used instead of the defaults with --account-limits. */
import { GetAccountSettingsCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { toRemoteError } from './remote-error.js';
import { UNZIPPED_BYTES, ZIP_DIRECT_BYTES } from '../lib/limits.js';

/** Byte limits and code storage of the account, as GetAccountSettings reports them. */
export interface AccountLimits {
  readonly unzippedBytes: number; // AccountLimit.CodeSizeUnzipped
  readonly zipDirectBytes: number; // AccountLimit.CodeSizeZipped
  readonly codeStorageBytes: number | null; // AccountLimit.TotalCodeSize
  readonly codeStorageUsedBytes: number | null; // AccountUsage.TotalCodeSize
}

/** Reads GetAccountSettings; a missing field falls back to the documented default. */
export async function readAccountLimits(lambda: LambdaClient): Promise<AccountLimits> {
  try {
    const settings = await lambda.send(new GetAccountSettingsCommand({}));
    return {
      unzippedBytes: settings.AccountLimit?.CodeSizeUnzipped ?? UNZIPPED_BYTES,
      zipDirectBytes: settings.AccountLimit?.CodeSizeZipped ?? ZIP_DIRECT_BYTES,
      codeStorageBytes: settings.AccountLimit?.TotalCodeSize ?? null,
      codeStorageUsedBytes: settings.AccountUsage?.TotalCodeSize ?? null,
    };
  } catch (error) {
    throw toRemoteError(error, 'GetAccountSettings');
  }
}
