// The CLI as a user runs it, in a child process (tsx over src/cli/main.ts from the repository root).
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './fixtures';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const argv = (args: string[]) => [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), path.join(ROOT, 'src/cli/main.ts'), ...args];

/** Runs `prune-studio <args>` to the end (170 s at most). */
export function cli(...args: string[]): CliResult {
  const r = spawnSync(process.execPath, argv(args), { encoding: 'utf8', cwd: ROOT, timeout: 170_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same without blocking the test process (a server in the test answers it), with extra environment. */
export function cliAsync(env: Record<string, string>, ...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, argv(args), { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
