/**
 * One PR comment, created once and then updated (docs/ci.md): lists the issue's comments (every page), updates the
 * one that carries the marker, else creates it. Uses Node's global fetch and GitHub's REST API
 * (https://docs.github.com/en/rest/issues/comments).
 */
import { COMMENT_MARKER } from './pr-comment.js';

export interface UpsertCommentInput {
  /** GITHUB_API_URL, e.g. https://api.github.com */
  readonly api: string;
  readonly token: string;
  /** owner/name */
  readonly repo: string;
  /** The pull request's number (a PR is an issue for comments). */
  readonly issue: number;
  readonly body: string;
  readonly marker?: string;
  readonly fetch?: typeof fetch;
}

export type UpsertResult =
  | {
      readonly ok: true;
      readonly action: 'created' | 'updated' | 'unchanged';
      readonly id: number;
      readonly url: string;
    }
  /** 403: the token may not comment (a fork's pull request): the report goes to the job summary instead. */
  | { readonly ok: false; readonly fallback: 'job-summary'; readonly status: number; readonly message: string };

/** A GitHub answer we cannot work around (401 bad token, 404 no such repository or issue, 5xx). */
export class GitHubApiError extends Error {
  override name = 'GitHubApiError';
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

interface Comment {
  readonly id: number;
  readonly body?: string;
  readonly html_url: string;
}

/** Creates or updates our one comment on the pull request. */
export async function upsertComment(input: UpsertCommentInput): Promise<UpsertResult> {
  const marker = input.marker ?? COMMENT_MARKER;
  if (!input.body.includes(marker)) throw new Error(`the comment body must carry the marker ${marker}`);
  const client = githubClient(input);
  const listed = await client.listComments();
  if (!Array.isArray(listed)) return listed;
  // Ours starts with the marker (a human quoting it would not); the oldest wins, so there is never a second.
  const ours = listed.find((c) => (c.body ?? '').trimStart().startsWith(marker));
  if (ours && ours.body === input.body) return { ok: true, action: 'unchanged', id: ours.id, url: ours.html_url };
  if (ours) {
    const res = await client.send('PATCH', `/repos/${input.repo}/issues/comments/${ours.id}`, { body: input.body });
    if (res.status !== 404) return result(res, 'updated');
    // Deleted between the list and the update: create it again.
  }
  const listPath = `/repos/${input.repo}/issues/${input.issue}/comments`;
  const created = await client.send('POST', listPath, { body: input.body });
  return result(created, 'created');
}

async function result(res: Response, action: 'created' | 'updated'): Promise<UpsertResult> {
  const forbidden = await forbiddenResult(res);
  if (forbidden) return forbidden;
  await ensureOk(res);
  const comment = (await res.json()) as Comment;
  return { ok: true, action, id: comment.id, url: comment.html_url };
}

async function forbiddenResult(res: Response): Promise<UpsertResult | null> {
  if (res.status !== 403) return null;
  const message = await errorMessage(res);
  return {
    ok: false,
    fallback: 'job-summary',
    status: 403,
    message: `GitHub refused to let this token comment (403: ${message})`,
  };
}

async function ensureOk(res: Response): Promise<void> {
  if (res.ok) return;
  const message = await errorMessage(res);
  const hint =
    res.status === 401
      ? ': the token is not valid (pass "github-token: ${{ github.token }}")'
      : res.status === 404
        ? ': no such repository or pull request, or the token cannot see it'
        : '';
  throw new GitHubApiError(res.status, `GitHub ${res.status} on ${new URL(res.url).pathname}: ${message}${hint}`);
}

async function errorMessage(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    return String((JSON.parse(text) as { message?: unknown }).message ?? text).slice(0, 300);
  } catch {
    return text.slice(0, 300) || res.statusText;
  }
}

/** The few calls we make, with the headers GitHub asks for. */
function githubClient(input: UpsertCommentInput) {
  const doFetch = input.fetch ?? fetch;
  const api = input.api.replace(/\/+$/, '');
  const origin = new URL(api).origin;
  const headers = {
    accept: 'application/vnd.github+json',
    authorization: `Bearer ${input.token}`,
    'x-github-api-version': '2022-11-28',
    'user-agent': 'lambda-ml',
  };
  const send = (method: string, path: string, body?: unknown) =>
    doFetch(path.startsWith('http') ? path : `${api}${path}`, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  /** Every comment of the issue, following Link rel="next" (never to another host: the token goes along). */
  async function listComments(): Promise<Comment[] | UpsertResult> {
    const all: Comment[] = [];
    let next: string | null = `${api}/repos/${input.repo}/issues/${input.issue}/comments?per_page=100`;
    for (let page = 0; next !== null && page < 1000; page++) {
      const res = await send('GET', next);
      const forbidden = await forbiddenResult(res);
      if (forbidden) return forbidden;
      await ensureOk(res);
      all.push(...((await res.json()) as Comment[]));
      next = nextLink(res.headers.get('link'));
      if (next !== null && new URL(next).origin !== origin) {
        throw new GitHubApiError(0, `GitHub's next page is on another host: ${next}`);
      }
    }
    return all;
  }
  return { send, listComments };
}

/** The rel="next" URL of a Link header, or null. */
export function nextLink(header: string | null): string | null {
  if (!header) return null;
  for (const part of header.split(',')) {
    const match = /<([^>]+)>\s*;\s*rel="?([^";]+)"?/.exec(part.trim());
    if (match && match[2].split(/\s+/).includes('next')) return match[1];
  }
  return null;
}
