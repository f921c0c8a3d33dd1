#!/usr/bin/env node
// Runs npm scripts at once and fails if any fails (npm test's checks: typecheck, format:check and setup overlap, since
// setup mostly waits on npm while the other two use the CPU). Each script's output is printed whole when it ends.
import { spawn } from 'node:child_process';

const names = process.argv.slice(2);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const runs = names.map((name) =>
  new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(npm, ['run', '--silent', name], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    child.stdout.on('data', (chunk) => out.push(chunk));
    child.stderr.on('data', (chunk) => out.push(chunk));
    child.on('error', (error) => resolve({ name, code: 1, out: [Buffer.from(String(error))], started }));
    child.on('close', (code) => resolve({ name, code: code ?? 1, out, started }));
  }).then((run) => {
    const seconds = ((Date.now() - run.started) / 1000).toFixed(1);
    process.stdout.write(`\n> ${run.name} (${seconds} s, exit ${run.code})\n${Buffer.concat(run.out).toString()}`);
    return run;
  }),
);
const failed = (await Promise.all(runs)).filter((run) => run.code !== 0);
if (failed.length > 0) {
  console.error(`failed: ${failed.map((run) => run.name).join(', ')}`);
  process.exit(1);
}
