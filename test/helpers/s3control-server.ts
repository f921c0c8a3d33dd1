/**
 * A loopback S3 Control endpoint for the real @aws-sdk/client-s3-control, implementing the Batch Operations job API
 * from the API reference (moto does not): CreateJob (POST /v20180820/jobs), ListJobs (GET /v20180820/jobs),
 * DescribeJob (GET /v20180820/jobs/{id}) and UpdateJobStatus (POST /v20180820/jobs/{id}/status), with the
 * `x-amz-account-id` header (and the account as the host's first label, as the SDK's endpoint rules send it), XML
 * bodies as the real API, and its checks:
 * - every CreateJob member against the API model's shapes (s3control-shapes.json: required members, lengths,
 *   patterns such as the role ARN's `arn:[^:]+:iam::\d{12}:role/.*`, Priority 0..2147483647, UserArguments 1..10
 *   entries with keys ≤ 64 and values ≤ 1,024, the S3JobManifestGenerator and its KeyNameConstraint filter);
 *   a violation is 400 InvalidRequest;
 * - the rules between members (one of Manifest or ManifestGenerator, UserArguments only with schema 2.0, a report
 *   bucket and format when the report is enabled, ManifestOutputLocation exactly when EnableManifestOutput):
 *   400 BadRequestException;
 * - ClientRequestToken idempotency: the same token and request give the same JobId, the same token with another
 *   request is 400 IdempotencyException;
 * - unknown job ids are 404 NotFoundException; a status change a job's state does not allow is JobStatusException;
 *   bad ListJobs filters are InvalidRequestException / InvalidNextTokenException; TooManyRequestsException and
 *   others can be injected with `failNext`.
 * Errors are `<ErrorResponse><Error><Code/><Message/></Error><RequestId/></ErrorResponse>`. Jobs move with
 * `advance` / `run` (or on every DescribeJob with `autoRun`), tasks succeed or fail as the test's `decide` says, and
 * the completion report is written to S3 (s3rver) when a job ends (s3control-jobs.ts).
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { S3Client } from '@aws-sdk/client-s3';
import type { S3ControlClient } from '@aws-sdk/client-s3-control';
import { makeS3ControlClient } from '../../src/backfill/s3control-client.js';
import {
  lambdaOf,
  prepare,
  runTasks,
  setStatus,
  TERMINAL,
  writeReport,
  type DecideTask,
  type JobRecord,
} from './s3control-jobs.js';
import { ApiError, crossCheck, describeXml, JOB_STATUSES, progress, requestHash, xmlDoc } from './s3control-api.js';
import {
  checkScalar,
  child,
  el,
  parseXml,
  readMap,
  textOf,
  validateShape,
  writeXml,
  type El,
} from './s3control-xml.js';

export type { DecideTask, JobRecord, JobTask } from './s3control-jobs.js';

export interface InjectedError {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}
export interface S3ControlCall {
  readonly op: string;
  readonly accountId: string | null;
  status: number;
}

export interface S3ControlServerOptions {
  readonly accountId?: string;
  readonly region?: string;
  /** s3rver's client: the manifest generator lists it, CSV manifests are read from it, reports are written to it. */
  readonly s3?: S3Client | null;
  /** On every DescribeJob, moves the job one step and runs `tasksPerPoll` tasks through `decide`. */
  readonly autoRun?: { readonly decide: DecideTask; readonly tasksPerPoll?: number } | null;
  /** Attempts per task before a TemporaryFailure is final (default 3). */
  readonly maxTaskAttempts?: number;
}

export interface S3ControlServer {
  /** http://127.0.0.1:PORT, the endpoint; clients resolve <account>.localhost to it (s3control-client.ts). */
  readonly endpoint: string;
  readonly accountId: string;
  readonly region: string;
  readonly calls: S3ControlCall[];
  /** A real SDK client pointed at this server (the product's client factory). */
  client(options?: { maxAttempts?: number }): S3ControlClient;
  /** Answers the next `times` calls of `op` with this error. */
  failNext(op: string, error: InjectedError, times?: number): void;
  /** A job's record (live). */
  job(jobId: string): JobRecord | undefined;
  /** Moves a job one step: New → Preparing → Suspended/Ready/Failed (reading its object list); Ready → Active. */
  advance(jobId: string): Promise<string>;
  /** Advances a job to Active, runs `count` (default all) tasks through `decide`; writes the report when it ends. */
  run(jobId: string, decide: DecideTask, count?: number): Promise<JobRecord>;
  stop(): Promise<void>;
}

/** Starts the server on 127.0.0.1 with a random port. */
export async function startS3ControlServer(options: S3ControlServerOptions = {}): Promise<S3ControlServer> {
  const accountId = options.accountId ?? '123456789012';
  const region = options.region ?? 'us-east-1';
  const s3 = options.s3 ?? null;
  const maxAttempts = options.maxTaskAttempts ?? 3;
  const jobs = new Map<string, JobRecord>();
  const tokens = new Map<string, string>(); // account/token -> jobId
  const failures = new Map<string, (InjectedError & { times: number })[]>();
  const calls: S3ControlCall[] = [];
  const clients: S3ControlClient[] = [];

  const getJob = (account: string, jobId: string) => {
    const problem = checkScalar(jobId, 'JobId', 'jobId');
    if (problem) throw new ApiError(400, 'BadRequestException', problem.message);
    const job = jobs.get(jobId);
    if (!job || job.accountId !== account) {
      throw new ApiError(404, 'NotFoundException', 'The specified job does not exist');
    }
    return job;
  };

  const advance = async (job: JobRecord): Promise<string> => {
    if (job.status === 'New') setStatus(job, 'Preparing');
    else if (job.status === 'Preparing') await prepare(job, s3);
    else if (job.status === 'Ready') setStatus(job, 'Active');
    if (TERMINAL.has(job.status)) await writeReport(job, s3);
    return job.status;
  };

  const createJob = async (account: string, body: string) => {
    let request: El;
    try {
      request = parseXml(body);
    } catch (error) {
      throw new ApiError(400, 'MalformedXML', `The XML you provided was not well-formed: ${(error as Error).message}`);
    }
    if (request.name !== 'CreateJobRequest') {
      throw new ApiError(400, 'MalformedXML', `expected CreateJobRequest, got ${request.name}`);
    }
    const problems = validateShape(request, 'CreateJobRequest', '');
    const unsupported = problems.find((p) => p.unsupported);
    if (unsupported) throw new ApiError(501, 'NotImplemented', unsupported.message);
    if (problems.length) {
      const shown = problems
        .slice(0, 3)
        .map((p) => p.message)
        .join('; ');
      const count = `${problems.length} validation error${problems.length > 1 ? 's' : ''}`;
      throw new ApiError(400, 'InvalidRequest', `${count} detected: ${shown}`);
    }
    crossCheck(request);
    const token = textOf(request, 'ClientRequestToken')!;
    const hash = requestHash(request);
    const existing = tokens.get(`${account}/${token}`);
    if (existing) {
      const job = jobs.get(existing)!;
      if (job.requestHash !== hash) {
        throw new ApiError(
          400,
          'IdempotencyException',
          'The ClientRequestToken was already used for a job with other parameters',
        );
      }
      return job.jobId;
    }
    const { functionArn, userArguments } = lambdaOf(request);
    const job: JobRecord = {
      accountId: account,
      jobId: randomUUID(),
      token,
      requestHash: hash,
      request,
      status: 'New',
      priority: Number(textOf(request, 'Priority')),
      confirmationRequired: textOf(request, 'ConfirmationRequired') === 'true',
      creationTime: new Date(),
      terminationDate: null,
      suspendedDate: null,
      suspendedCause: null,
      statusUpdateReason: null,
      activeSince: null,
      activeMs: 0,
      tasks: null,
      next: 0,
      succeeded: 0,
      failed: 0,
      failureReasons: [],
      rows: [],
      functionArn,
      userArguments,
      reportWritten: null,
    };
    jobs.set(job.jobId, job);
    tokens.set(`${account}/${token}`, job.jobId);
    return job.jobId;
  };

  const listJobs = (account: string, query: URLSearchParams) => {
    const statuses = query.getAll('jobStatuses');
    const badStatus = statuses.find((s) => !JOB_STATUSES.includes(s));
    if (badStatus) throw new ApiError(400, 'InvalidRequestException', `Invalid job status ${badStatus}`);
    const max = query.has('maxResults') ? Number(query.get('maxResults')) : 1000;
    if (!Number.isInteger(max) || max < 0 || max > 1000) {
      throw new ApiError(400, 'InvalidRequestException', 'maxResults must be from 0 to 1000');
    }
    let offset = 0;
    if (query.has('nextToken')) {
      const decoded = /^o(\d+)$/.exec(Buffer.from(query.get('nextToken') ?? '', 'base64').toString('utf8'));
      if (!decoded) throw new ApiError(400, 'InvalidNextTokenException', 'The continuation token provided is invalid');
      offset = Number(decoded[1]);
    }
    const wanted = (j: JobRecord) => j.accountId === account && (statuses.length === 0 || statuses.includes(j.status));
    const all = [...jobs.values()].filter(wanted).sort((a, b) => b.creationTime.getTime() - a.creationTime.getTime());
    const page = all.slice(offset, offset + (max || 1000));
    const next = offset + page.length < all.length ? Buffer.from(`o${offset + page.length}`).toString('base64') : null;
    return el('ListJobsResult', [
      next ? el('NextToken', next) : null,
      el(
        'Jobs',
        page.map((j) =>
          el('member', [
            el('JobId', j.jobId),
            textOf(j.request, 'Description') !== undefined ? el('Description', textOf(j.request, 'Description')) : null,
            el('Operation', 'LambdaInvoke'),
            el('Priority', j.priority),
            el('Status', j.status),
            el('CreationTime', j.creationTime.toISOString()),
            j.terminationDate ? el('TerminationDate', j.terminationDate.toISOString()) : null,
            progress(j),
          ]),
        ),
      ),
    ]);
  };

  const updateStatus = async (job: JobRecord, query: URLSearchParams) => {
    const requested = query.get('requestedJobStatus') ?? '';
    if (!['Ready', 'Cancelled'].includes(requested)) {
      throw new ApiError(
        400,
        'BadRequestException',
        `Invalid requestedJobStatus ${requested || '(none)'}: use Ready or Cancelled`,
      );
    }
    const reason = query.get('statusUpdateReason');
    if (reason !== null) {
      const problem = checkScalar(reason, 'JobStatusUpdateReason', 'statusUpdateReason');
      if (problem) throw new ApiError(400, 'BadRequestException', problem.message);
    }
    if (requested === 'Ready') {
      if (job.status !== 'Suspended') {
        throw new ApiError(
          400,
          'JobStatusException',
          `Job ${job.jobId} is ${job.status}; only a Suspended job can be confirmed`,
        );
      }
      setStatus(job, 'Ready');
    } else {
      if (TERMINAL.has(job.status)) {
        throw new ApiError(400, 'JobStatusException', `Job ${job.jobId} is ${job.status} and cannot be cancelled`);
      }
      setStatus(job, 'Cancelled');
      await writeReport(job, s3);
    }
    job.statusUpdateReason = reason;
    const why = reason ? el('StatusUpdateReason', reason) : null;
    return el('UpdateJobStatusResult', [el('JobId', job.jobId), el('Status', job.status), why]);
  };

  const route = async (req: http.IncomingMessage, body: string, call: { op: string }): Promise<El> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const byPath =
      path === '/v20180820/jobs'
        ? method === 'POST'
          ? 'CreateJob'
          : method === 'GET'
            ? 'ListJobs'
            : null
        : /^\/v20180820\/jobs\/[^/]+$/.test(path) && method === 'GET'
          ? 'DescribeJob'
          : /^\/v20180820\/jobs\/[^/]+\/status$/.test(path) && method === 'POST'
            ? 'UpdateJobStatus'
            : null;
    if (!byPath) throw new ApiError(501, 'NotImplemented', `the loopback server does not implement ${method} ${path}`);
    call.op = byPath;
    const injected = failures.get(byPath)?.[0];
    if (injected) {
      if (--injected.times <= 0) failures.get(byPath)!.shift();
      throw new ApiError(injected.status, injected.code, injected.message);
    }
    if (!/^AWS4-HMAC-SHA256 Credential=/.test(req.headers.authorization ?? '')) {
      throw new ApiError(403, 'AccessDenied', 'Access Denied: the request is not signed');
    }
    const account = String(req.headers['x-amz-account-id'] ?? '');
    if (!/^\d{12}$/.test(account)) {
      throw new ApiError(400, 'InvalidRequest', 'Missing or invalid x-amz-account-id header (12 digits)');
    }
    const host = String(req.headers.host ?? '');
    if (!host.startsWith(`${account}.`)) {
      throw new ApiError(400, 'InvalidRequest', `The host ${host} does not start with the account id ${account}`);
    }
    const jobId = decodeURIComponent(path.split('/')[3] ?? '');
    switch (byPath) {
      case 'CreateJob':
        return el('CreateJobResult', [el('JobId', await createJob(account, body))]);
      case 'ListJobs':
        return listJobs(account, url.searchParams);
      case 'DescribeJob': {
        const job = getJob(account, jobId);
        if (options.autoRun && !TERMINAL.has(job.status) && job.status !== 'Suspended') {
          if (job.status === 'Active') {
            await runTasks(job, options.autoRun.decide, options.autoRun.tasksPerPoll ?? 10, maxAttempts);
            if (TERMINAL.has(job.status)) await writeReport(job, s3);
          } else await advance(job);
        }
        return describeXml(job, region);
      }
      default:
        return updateStatus(getJob(account, jobId), url.searchParams);
    }
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const accountId = (req.headers['x-amz-account-id'] as string | undefined) ?? null;
      const call = { op: 'unknown', accountId, status: 200 };
      calls.push(call);
      const requestId = randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase();
      const send = (status: number, xml: string) => {
        call.status = status;
        const headers = { 'content-type': 'application/xml', 'x-amz-request-id': requestId, 'x-amz-id-2': requestId };
        res.writeHead(status, headers);
        res.end(xml);
      };
      route(req, Buffer.concat(chunks).toString('utf8'), call).then(
        (result) => send(200, xmlDoc(result)),
        (error: unknown) => {
          const e =
            error instanceof ApiError ? error : new ApiError(500, 'InternalServiceException', (error as Error).message);
          const body = el('ErrorResponse', [
            el('Error', [el('Code', e.code), el('Message', e.message)]),
            el('RequestId', requestId),
            el('HostId', requestId),
          ]);
          send(e.status, `<?xml version="1.0" encoding="UTF-8"?>\n${writeXml(body)}`);
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    endpoint,
    accountId,
    region,
    calls,
    client(o = {}) {
      const credentials = { accessKeyId: 'AKIDLOOPBACK', secretAccessKey: 'loopback' };
      const c = makeS3ControlClient({ region, endpoint, maxAttempts: o.maxAttempts, credentials });
      clients.push(c);
      return c;
    },
    failNext(op, error, times = 1) {
      const list = failures.get(op) ?? [];
      list.push({ ...error, times });
      failures.set(op, list);
    },
    job: (jobId) => jobs.get(jobId),
    async advance(jobId) {
      const job = jobs.get(jobId);
      if (!job) throw new Error(`no job ${jobId}`);
      return advance(job);
    },
    async run(jobId, decide, count = Infinity) {
      const job = jobs.get(jobId);
      if (!job) throw new Error(`no job ${jobId}`);
      while (job.status === 'New' || job.status === 'Preparing' || job.status === 'Ready') await advance(job);
      if (job.status === 'Active') {
        await runTasks(job, decide, count, maxAttempts);
        if (TERMINAL.has(job.status)) await writeReport(job, s3);
      }
      return job;
    },
    async stop() {
      for (const c of clients) c.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The UserArguments map of a CreateJobRequest element (for assertions). */
export const userArgumentsOf = (request: El) =>
  readMap(child(child(child(request, 'Operation'), 'LambdaInvoke'), 'UserArguments'));
