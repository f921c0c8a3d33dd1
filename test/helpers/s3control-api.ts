/**
 * The XML documents of the loopback S3 Control server (s3control-server.ts): its error type, the DescribeJob and
 * ListJobs descriptors built from a job record, and the CreateJob rules between members that the API model's shapes
 * do not express (400 BadRequestException).
 */
import { createHash } from 'node:crypto';
import type { JobRecord } from './s3control-jobs.js';
import { child, cloneEl, el, textOf, writeXml, type El } from './s3control-xml.js';

export const XMLNS = 'http://awss3control.amazonaws.com/doc/2018-08-20/';
export const JOB_STATUSES = [
  'Active',
  'Cancelled',
  'Cancelling',
  'Complete',
  'Completing',
  'Failed',
  'Failing',
  'New',
  'Paused',
  'Pausing',
  'Preparing',
  'Ready',
  'Suspended',
];

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const requestHash = (xml: El) => createHash('sha256').update(writeXml(xml)).digest('hex');

export function xmlDoc(root: El): string {
  const body = writeXml(root).replace(`<${root.name}>`, `<${root.name} xmlns="${XMLNS}">`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
}

export const activeSeconds = (job: JobRecord) =>
  Math.floor((job.activeMs + (job.activeSince ? Date.now() - job.activeSince : 0)) / 1000);

export const progress = (job: JobRecord) =>
  el('ProgressSummary', [
    job.tasks ? el('TotalNumberOfTasks', job.tasks.length) : null,
    el('NumberOfTasksSucceeded', job.succeeded),
    el('NumberOfTasksFailed', job.failed),
    el('Timers', [el('ElapsedTimeInActiveSeconds', activeSeconds(job))]),
  ]);

export function describeXml(job: JobRecord, region: string): El {
  const copy = (name: string) => {
    const c = child(job.request, name);
    return c ? cloneEl(c) : null;
  };
  return el('DescribeJobResult', [
    el('Job', [
      el('JobId', job.jobId),
      el('ConfirmationRequired', job.confirmationRequired),
      textOf(job.request, 'Description') !== undefined ? el('Description', textOf(job.request, 'Description')) : null,
      el('JobArn', `arn:aws:s3:${region}:${job.accountId}:job/${job.jobId}`),
      el('Status', job.status),
      copy('Manifest'),
      copy('Operation'),
      el('Priority', job.priority),
      progress(job),
      job.statusUpdateReason ? el('StatusUpdateReason', job.statusUpdateReason) : null,
      job.failureReasons.length
        ? el(
            'FailureReasons',
            job.failureReasons.map((f) => el('member', [el('FailureCode', f.code), el('FailureReason', f.reason)])),
          )
        : null,
      copy('Report'),
      el('CreationTime', job.creationTime.toISOString()),
      job.terminationDate ? el('TerminationDate', job.terminationDate.toISOString()) : null,
      el('RoleArn', textOf(job.request, 'RoleArn')),
      job.suspendedDate ? el('SuspendedDate', job.suspendedDate.toISOString()) : null,
      job.suspendedCause ? el('SuspendedCause', job.suspendedCause) : null,
      copy('ManifestGenerator'),
    ]),
  ]);
}

/** The rules between CreateJob members that the shapes alone do not express (400 BadRequestException). */
export function crossCheck(request: El): void {
  const bad = (message: string) => {
    throw new ApiError(400, 'BadRequestException', message);
  };
  const hasManifest = child(request, 'Manifest') !== undefined;
  const hasGenerator = child(request, 'ManifestGenerator') !== undefined;
  if (hasManifest === hasGenerator) bad('Exactly one of Manifest or ManifestGenerator must be specified');
  const operation = child(request, 'Operation')!;
  if (operation.children.length !== 1) bad('Exactly one operation must be specified');
  const lambda = child(operation, 'LambdaInvoke')!;
  if (!textOf(lambda, 'FunctionArn')) bad('LambdaInvoke requires FunctionArn');
  const schema = textOf(lambda, 'InvocationSchemaVersion') ?? '1.0';
  if (!['1.0', '2.0'].includes(schema)) bad(`Invalid InvocationSchemaVersion ${schema}: use 1.0 or 2.0`);
  if (child(lambda, 'UserArguments') && schema !== '2.0') bad('UserArguments require InvocationSchemaVersion 2.0');
  const report = child(request, 'Report')!;
  if (textOf(report, 'Enabled') === 'true' && (!textOf(report, 'Bucket') || !textOf(report, 'Format'))) {
    bad('An enabled Report requires Bucket and Format');
  }
  const generator = child(child(request, 'ManifestGenerator'), 'S3JobManifestGenerator');
  if (hasGenerator && !generator) bad('ManifestGenerator requires S3JobManifestGenerator');
  if (generator) {
    const output = textOf(generator, 'EnableManifestOutput') === 'true';
    if (output !== (child(generator, 'ManifestOutputLocation') !== undefined)) {
      bad('ManifestOutputLocation must be given exactly when EnableManifestOutput is true');
    }
  }
  if (hasManifest) {
    const fields = (child(child(child(request, 'Manifest'), 'Spec'), 'Fields')?.children ?? []).map((c) => c.text);
    const format = textOf(child(child(request, 'Manifest'), 'Spec'), 'Format');
    if (format === 'S3BatchOperations_CSV_20180820' && !(fields.includes('Bucket') && fields.includes('Key'))) {
      bad('A CSV manifest needs the Bucket and Key fields');
    }
  }
}
