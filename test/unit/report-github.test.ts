/**
 * upsertComment (the Action's HTTP client) against test/helpers/github-server.ts on loopback: one comment created,
 * then updated, found again across pages; 403 for a fork's token falls back to the job summary; 401 is an error.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { GitHubApiError, nextLink, upsertComment } from '../../src/report/github.js';
import { COMMENT_MARKER } from '../../src/report/pr-comment.js';
import { FORK_TOKEN, startGitHubServer, WRITE_TOKEN, type GitHubServer } from '../helpers/github-server.js';

let server: GitHubServer;
before(async () => {
  server = await startGitHubServer({ maxPerPage: 2 });
});
after(() => server.close());

const REPO = 'acme/shop';
const body = (text: string) => `${COMMENT_MARKER}\n${text}\n`;
const upsert = (issue: number, text: string, token = WRITE_TOKEN) =>
  upsertComment({ api: server.url, token, repo: REPO, issue, body: body(text) });

test('created once, then updated in place; the same body again is left alone', async () => {
  const first = await upsert(1, 'v1');
  assert.equal(first.ok && first.action, 'created');
  const second = await upsert(1, 'v2');
  assert.equal(second.ok && second.action, 'updated');
  assert.equal(second.ok && second.id, first.ok && first.id);
  const before = server.requests.length;
  const third = await upsert(1, 'v2');
  assert.equal(third.ok && third.action, 'unchanged');
  assert.deepEqual(
    server.requests.slice(before).map((r) => r.method),
    ['GET'],
    'no write when nothing changed',
  );
  assert.deepEqual(
    server.issueComments(REPO, 1).map((c) => c.body),
    [body('v2')],
  );
  assert.ok(server.requests.every((r) => r.token === WRITE_TOKEN));
});

test('found again past the first pages (Link rel="next"); others\' comments and quotes are not ours', async () => {
  for (let i = 0; i < 5; i++) server.seed(REPO, 2, `review comment ${i}`);
  server.seed(REPO, 2, `> quoting: ${COMMENT_MARKER} is not ours`);
  const ours = server.seed(REPO, 2, body('old report'), 'github-actions[bot]');
  server.seed(REPO, 2, 'later comment');
  const result = await upsert(2, 'new report');
  assert.deepEqual(result.ok && [result.action, result.id], ['updated', ours.id]);
  assert.equal(server.issueComments(REPO, 2).filter((c) => c.body.includes('report')).length, 1, 'never a second');
  const pages = server.requests
    .filter((r) => r.method === 'GET' && r.path.includes('/issues/2/comments'))
    .map((r) => new URL(r.path, server.url).searchParams.get('page'));
  assert.deepEqual(pages, [null, '2', '3', '4'], 'every page read');
});

test("a fork's token reads but may not write: 403 falls back to the job summary", async () => {
  const result = await upsert(3, 'report', FORK_TOKEN);
  assert.equal(result.ok, false);
  assert.ok(!result.ok && result.fallback === 'job-summary' && result.status === 403);
  assert.match(!result.ok ? result.message : '', /403: Resource not accessible by integration/);
  assert.deepEqual(server.issueComments(REPO, 3), []);
  server.seed(REPO, 4, body('from an earlier run'), 'github-actions[bot]');
  const update = await upsert(4, 'report', FORK_TOKEN);
  assert.ok(!update.ok && update.status === 403, 'the PATCH is refused the same way');
});

test('a bad token is an error (401) that names the fix', async () => {
  await assert.rejects(
    upsert(5, 'x', 'ghs_bad'),
    (e: unknown) =>
      e instanceof GitHubApiError &&
      e.status === 401 &&
      e.message.startsWith('GitHub 401 on /repos/acme/shop/issues/5/comments: Bad credentials: the token is not'),
  );
});

test('our comment deleted between the list and the update: created again', async () => {
  const ours = server.seed(REPO, 6, body('old'), 'github-actions[bot]');
  const fetchThenDelete: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    if ((init?.method ?? 'GET') === 'GET') server.comments.splice(server.comments.indexOf(ours), 1);
    return res;
  };
  const input = { api: server.url, token: WRITE_TOKEN, repo: REPO, issue: 6, body: body('new') };
  const result = await upsertComment({ ...input, fetch: fetchThenDelete });
  assert.equal(result.ok && result.action, 'created');
  assert.deepEqual(
    server.issueComments(REPO, 6).map((c) => c.body),
    [body('new')],
  );
});

test('a body without the marker is refused before any request', async () => {
  const count = server.requests.length;
  const input = { api: server.url, token: WRITE_TOKEN, repo: REPO, issue: 7, body: 'no marker' };
  await assert.rejects(upsertComment(input), /must carry the marker/);
  assert.equal(server.requests.length, count);
});

test('nextLink: the rel="next" URL of a Link header', () => {
  const rows: [string | null, string | null][] = [
    [null, null],
    ['<https://a/x?page=2>; rel="next", <https://a/x?page=5>; rel="last"', 'https://a/x?page=2'],
    ['<https://api.github.com/x?page=1>; rel="prev", <https://api.github.com/x?page=1>; rel="first"', null],
    ['<https://a/x?page=3>; rel="next last"', 'https://a/x?page=3'],
  ];
  for (const [header, next] of rows) assert.equal(nextLink(header), next, String(header));
});
