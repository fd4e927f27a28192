import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { runTesseraProgram } from '../../../lib/cli/program.js';

/** What a `tessera` run left: its exit code (0 on success), stdout and stderr. */
export interface TesseraRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment of an operator's shell pointed at `apiUrl`: placeholder credentials (`cli`/`cli`, no session token), region us-east-1. */
const operatorEnv = (apiUrl: string) => ({ TESSERA_API_URL: apiUrl, AWS_ACCESS_KEY_ID: 'cli', AWS_SECRET_ACCESS_KEY: 'cli', AWS_SESSION_TOKEN: '', AWS_REGION: 'us-east-1' });

/**
 * Runs the real `tessera` CLI (bin/tessera.mjs, in a child Node) against an admin API at
 * `apiUrl` (TESSERA_API_URL), as an operator's shell would. Never rejects: a failing run resolves
 * with its exit code. Each run costs a Node start, tsx and the imports of the command it runs
 * (about 0.5 s of CPU here; test/support/cli-bundle.ts starts the same program without tsx for
 * about 0.2 s): use it for what only a real process shows (the entry point, exit codes, nothing
 * left running), and runTesseraInProcess for the rest.
 */
export function runTessera(apiUrl: string, ...args: string[]): Promise<TesseraRun> {
  return runTesseraEntry(join(import.meta.dirname, '..', '..', '..', 'bin', 'tessera.mjs'), apiUrl, ...args);
}

/**
 * The same run (a child Node, the operator's environment) of another entry of the same program:
 * the CLI's bundle (test/support/cli-bundle.ts `tesseraBundle()`), for a file whose command group's
 * start through bin/tessera.mjs another run or file already covers.
 */
export function runTesseraEntry(entry: string, apiUrl: string, ...args: string[]): Promise<TesseraRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [entry, ...args], {
      env: { ...process.env, ...operatorEnv(apiUrl) },
    }, (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
  });
}

/**
 * The same run in this process: the program bin/tessera-cli.ts runs (lib/cli/program.ts), with
 * the operator's environment set for the run (its credentials only where the process has none:
 * see below) and stdout/stderr captured, then both restored. One run at a time (the streams are
 * this process's).
 */
export async function runTesseraInProcess(apiUrl: string, ...args: string[]): Promise<TesseraRun> {
  // The Lambdas this process hosts (LocalPlatform: the admin API, and the workflows a command
  // starts and watches) read the same process.env while the command runs. In AWS an operator's
  // shell and a Lambda never share an environment, so the process's own credentials (the Lambdas'
  // identity, when a harness set one) stay; the placeholder operator's only fill their absence
  // (the local admin API front does not check the signature). Otherwise an SDK client a Lambda
  // first used during a command resolved the operator's credentials, another account in moto.
  const env = process.env.AWS_ACCESS_KEY_ID ? { TESSERA_API_URL: apiUrl, AWS_REGION: 'us-east-1' } : operatorEnv(apiUrl);
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  const out: string[] = [];
  const err: string[] = [];
  const write = { out: process.stdout.write, err: process.stderr.write };
  const capture = (into: string[]) => ((chunk: string | Uint8Array) => { into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')); return true; }) as typeof process.stdout.write;
  Object.assign(process.env, env);
  process.stdout.write = capture(out);
  process.stderr.write = capture(err);
  try {
    const code = await runTesseraProgram(args);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
    process.exitCode = undefined;
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
}
