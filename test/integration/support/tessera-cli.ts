import { execFile } from 'node:child_process';
import { join } from 'node:path';

/** What a `tessera` run left: its exit code (0 on success), stdout and stderr. */
export interface TesseraRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real `tessera` CLI (bin/tessera.mjs, in a child Node) against an admin API at
 * `apiUrl` (TESSERA_API_URL), with placeholder credentials (`cli`/`cli`, no session token) and
 * region us-east-1, as an operator's shell would have them. Never rejects: a failing run resolves
 * with its exit code.
 */
export function runTessera(apiUrl: string, ...args: string[]): Promise<TesseraRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(import.meta.dirname, '..', '..', '..', 'bin', 'tessera.mjs'), ...args], {
      env: { ...process.env, TESSERA_API_URL: apiUrl, AWS_ACCESS_KEY_ID: 'cli', AWS_SECRET_ACCESS_KEY: 'cli', AWS_SESSION_TOKEN: '', AWS_REGION: 'us-east-1' },
    }, (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
  });
}
