/**
 * A loopback server of the GitHub REST routes the Action uses (https://docs.github.com/en/rest/issues/comments):
 * list an issue's comments (paginated, with Link headers), create one, update one. Tokens: a "write" token may do
 * everything, a "fork" token (a fork's pull request) may read but gets 403 on writes, any other token gets 401.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StoredComment {
  id: number;
  body: string;
  html_url: string;
  user: { login: string };
  created_at: string;
  updated_at: string;
  issue: string; // owner/repo#n
}

export interface GitHubServer {
  readonly url: string;
  /** Every comment, in creation order. */
  readonly comments: StoredComment[];
  /** Every request: method, path with query, and the token it carried. */
  readonly requests: { method: string; path: string; token: string | null }[];
  /** Adds a comment as if someone had written it. */
  seed(repo: string, issue: number, body: string, login?: string): StoredComment;
  /** The comments of one issue. */
  issueComments(repo: string, issue: number): StoredComment[];
  close(): Promise<void>;
}

export interface GitHubServerOptions {
  readonly tokens?: Readonly<Record<string, 'write' | 'fork'>>;
  /** GitHub caps per_page at 100; tests lower it to make pagination cheap. */
  readonly maxPerPage?: number;
}

export const WRITE_TOKEN = 'ghs_write';
export const FORK_TOKEN = 'ghs_fork';
const MAX_BODY = 65_536;

/** Starts the server on 127.0.0.1; close it with `close()`. */
export async function startGitHubServer(options: GitHubServerOptions = {}): Promise<GitHubServer> {
  const tokens = options.tokens ?? { [WRITE_TOKEN]: 'write', [FORK_TOKEN]: 'fork' };
  const maxPerPage = options.maxPerPage ?? 100;
  const comments: StoredComment[] = [];
  const requests: GitHubServer['requests'] = [];
  let nextId = 1000;
  let url = '';

  const add = (issue: string, body: string, login: string): StoredComment => {
    const now = new Date().toISOString();
    const [owner, repo, n] = issue.split(/[/#]/);
    const id = nextId++;
    const comment = {
      id,
      body,
      issue,
      user: { login },
      created_at: now,
      updated_at: now,
      html_url: `https://github.com/${owner}/${repo}/pull/${n}#issuecomment-${id}`,
    };
    comments.push(comment);
    return comment;
  };
  const view = ({ issue: _issue, ...rest }: StoredComment) => rest;

  const server = createServer(async (req, res) => {
    const target = new URL(req.url ?? '/', url);
    const token = /^(?:Bearer|token) (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? null;
    requests.push({ method: req.method ?? '', path: target.pathname + target.search, token });
    const access = token === null ? undefined : tokens[token];
    if (!access) return send(res, 401, { message: 'Bad credentials' });
    const list = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/.exec(target.pathname);
    const one = /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/.exec(target.pathname);
    const forbidden = () => send(res, 403, { message: 'Resource not accessible by integration' });
    if (list && req.method === 'GET') {
      const issue = `${list[1]}/${list[2]}#${list[3]}`;
      const all = comments.filter((c) => c.issue === issue);
      const perPage = Math.min(maxPerPage, Math.max(1, Number(target.searchParams.get('per_page') ?? 30)));
      const page = Math.max(1, Number(target.searchParams.get('page') ?? 1));
      const last = Math.max(1, Math.ceil(all.length / perPage));
      const link = (p: number, rel: string) => {
        const u = new URL(target.href);
        u.searchParams.set('page', String(p));
        u.searchParams.set('per_page', String(perPage));
        return `<${u.href}>; rel="${rel}"`;
      };
      const links = [
        page < last ? link(page + 1, 'next') : '',
        page < last ? link(last, 'last') : '',
        page > 1 ? link(1, 'first') : '',
        page > 1 ? link(page - 1, 'prev') : '',
      ].filter(Boolean);
      const rows = all.slice((page - 1) * perPage, page * perPage).map(view);
      return send(res, 200, rows, links.length ? { link: links.join(', ') } : {});
    }
    if (list && req.method === 'POST') {
      if (access !== 'write') return forbidden();
      const body = await readBody(req);
      const invalid = invalidBody(body);
      if (invalid) return send(res, 422, { message: invalid });
      return send(res, 201, view(add(`${list[1]}/${list[2]}#${list[3]}`, body!.body as string, 'github-actions[bot]')));
    }
    if (one && req.method === 'PATCH') {
      if (access !== 'write') return forbidden();
      const comment = comments.find((c) => c.id === Number(one[3]) && c.issue.startsWith(`${one[1]}/${one[2]}#`));
      if (!comment) return send(res, 404, { message: 'Not Found' });
      const body = await readBody(req);
      const invalid = invalidBody(body);
      if (invalid) return send(res, 422, { message: invalid });
      comment.body = body!.body as string;
      comment.updated_at = new Date().toISOString();
      return send(res, 200, view(comment));
    }
    return send(res, 404, { message: 'Not Found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    comments,
    requests,
    seed: (repo, issue, body, login = 'someone') => add(`${repo}#${issue}`, body, login),
    issueComments: (repo, issue) => comments.filter((c) => c.issue === `${repo}#${issue}`),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  const type = 'application/json; charset=utf-8';
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** GitHub's 422 answers for a missing or too long body. */
function invalidBody(body: { body?: unknown } | null): string | null {
  if (typeof body?.body !== 'string') return 'Invalid request: body is missing';
  return body.body.length > MAX_BODY ? 'Validation Failed: body is too long (maximum is 65536 characters)' : null;
}

async function readBody(req: IncomingMessage): Promise<{ body?: unknown } | null> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as { body?: unknown };
  } catch {
    return null;
  }
}
