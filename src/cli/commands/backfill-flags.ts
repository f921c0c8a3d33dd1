/** The flags of `lambda-ml backfill` (docs/backfill.md), shared by the job and `--local` runs. */
import type { GlobalOptions } from '../io.js';

/** What commander parses for `backfill`. */
export interface BackfillFlags extends GlobalOptions {
  readonly suffix?: string[];
  readonly manifest?: 'generator' | 'csv';
  readonly dryRun?: boolean;
  readonly wait?: boolean;
  readonly role?: string;
  readonly confirm?: boolean;
  readonly force?: boolean;
  readonly priority?: number;
  readonly report?: 'failed' | 'all';
  readonly local?: boolean;
  readonly concurrency?: number;
  readonly endpoint?: string;
  readonly out?: string;
  readonly alias?: string;
  readonly region?: string;
  readonly profile?: string;
  readonly endpointUrl?: string;
  readonly fromFailures?: boolean;
}
