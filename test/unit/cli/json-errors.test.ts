import { SQSServiceException } from '@aws-sdk/client-sqs';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AdminApiError } from '../../../lib/cli/admin-api-errors.js';
import { CliError } from '../../../lib/cli/cli-error.js';
import { call } from '../../../lib/cli/dlq/queues.js';
import { asksJson, errorJson } from '../../../lib/cli/json-error.js';
import { runTesseraInProcess } from '../../integration/support/tessera-cli.js';
import { tempDir } from '../../support/temp-dirs.js';
import { type AdminAnswer, fakeAdminApi } from './fake-admin-api.js';

/**
 * Session 46: platform teams drive `tessera` from CI. With `--json` a failure printed `error: …` prose on stderr, so a script
 * had only the exit code to branch on. Now every failure, commander's refusals included, is one JSON line on stderr,
 * `{"error": {message, type, code?, param?, status?, request_id?}}`: the admin API's own error body passed on as it came
 * (with any key beside `error`), the CLI's own failures in the same shape; stdout is left to the command's result and the
 * exit codes are those of the text mode (2 usage or config, 1 runtime). Runs go through the real program
 * (runTesseraInProcess) against a real HTTP server on loopback (fakeAdminApi), a closed port, and no URL at all.
 */
const dir = tempDir('json-errors-');
const NOT_FOUND = { error: { message: 'tenant "nope" does not exist', type: 'not_found_error', param: 'id', code: 'tenant_not_found' } };
const HELD = {
  error: { message: 'tenant "acme" is held by a change (request cli-1)', type: 'conflict_error', param: 'id', code: 'operation_in_progress' },
  operation: { kind: 'change', requestId: 'cli-1', executionArn: 'arn:aws:states:us-east-1:222222222222:execution:tessera-change:c-1' },
};
const admin = fakeAdminApi((req): AdminAnswer => {
  if (req.url === '/v1/admin/tenants/nope') return { status: 404, body: NOT_FOUND, headers: { 'x-amzn-requestid': 'c0ffee00-0000-4000-8000-000000000404' } };
  if (req.url?.startsWith('/v1/admin/tenants/acme') && req.method !== 'GET') return { status: 409, body: HELD };
  if (req.url === '/v1/admin/tenants/denied') {
    return {
      status: 403, body: { Message: 'User: arn:aws:sts::111111111111:assumed-role/dev/x is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:111111111111:abc/prod/GET/admin/tenants/denied' },
      headers: { 'x-amzn-errortype': 'AccessDeniedException', 'x-amzn-requestid': 'c0ffee00-0000-4000-8000-000000000403' },
    };
  }
  return { status: 500, body: { error: { message: 'unexpected request', type: 'api_error', param: null, code: 'internal_error' } } };
});

/** The one JSON line a --json failure leaves on stderr, parsed (it fails the test when stderr holds anything else). */
function stderrJson(stderr: string): { error: Record<string, unknown>; [beside: string]: unknown } {
  expect(stderr.endsWith('\n') && stderr.trimEnd().split('\n')).toHaveLength(1);
  return JSON.parse(stderr) as { error: Record<string, unknown> };
}

/** A loopback port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('tessera --json: a usage error is one JSON line on stderr, exit 2', () => {
  it('an unknown option, before or after the command, with commander\'s suggestion and the option at fault', async () => {
    for (const args of [['--json', 'tenants', 'list', '--stauts', 'ACTIVE'], ['tenants', 'list', '--stauts', 'ACTIVE', '--json']]) {
      const out = await runTesseraInProcess(admin.url, ...args);
      expect([out.code, out.stdout], args.join(' ')).toEqual([2, '']);
      expect(stderrJson(out.stderr)).toEqual({ error: { message: 'unknown option \'--stauts\' (Did you mean --status?)', type: 'usage_error', code: 'unknown_option', param: '--stauts' } });
    }
  });

  it('a missing argument, an unknown command, a group without its command, a required option not given', async () => {
    expect(stderrJson((await runTesseraInProcess(admin.url, '--json', 'tenants', 'show')).stderr).error)
      .toEqual({ message: 'missing required argument \'id\'', type: 'usage_error', code: 'missing_argument' });
    expect(stderrJson((await runTesseraInProcess(admin.url, '--json', 'tenants', 'lst')).stderr).error)
      .toEqual({ message: 'unknown command \'lst\' (Did you mean list?)', type: 'usage_error', code: 'unknown_command', param: 'lst' });
    // Not the group's help on stderr (commander's answer, exit 2 as before): the JSON line alone.
    const group = await runTesseraInProcess(admin.url, '--json', 'tenants');
    expect([group.code, stderrJson(group.stderr).error]).toEqual([2, { message: 'tessera tenants needs a command: `tessera tenants --help` lists them', type: 'usage_error', code: 'missing_command' }]);
    const create = await runTesseraInProcess(admin.url, 'tenants', 'create', '--id', 'acme', '--tier', 'starter', '--json');
    expect([create.code, stderrJson(create.stderr).error]).toEqual([2, { message: 'tessera tenants create needs the options --name <name>, --admin-email <email>', type: 'usage_error', code: 'missing_mandatory_option_value' }]);
  });

  it('an option whose value is missing or refused: param its long flag, as the table of the docs says', async () => {
    const missing = await runTesseraInProcess(admin.url, '--json', 'tenants', 'apply', '-f');
    expect([missing.code, stderrJson(missing.stderr).error]).toEqual([2, { message: 'option \'-f, --file <tenants.yaml>\' argument missing', type: 'usage_error', code: 'option_missing_argument', param: '--file' }]);
    const refused = await runTesseraInProcess(admin.url, '--json', 'tenants', 'list', '--status', 'BOGUS');
    expect([refused.code, stderrJson(refused.stderr).error]).toEqual([2, {
      message: 'option \'--status <status>\' argument \'BOGUS\' is invalid. Allowed choices are REQUESTED, PROVISIONING, ACTIVE, UPDATING, SUSPENDED, OFFBOARDING, OFFBOARDED, FAILED.',
      type: 'usage_error', code: 'invalid_argument', param: '--status',
    }]);
  });

  it('a value the CLI refuses itself, its message starting with the flag: param the flag', async () => {
    const out = await runTesseraInProcess(admin.url, '--json', 'dev-token', '--tenant', 'acme', '--expires', 'soon');
    const error = stderrJson(out.stderr).error;
    expect([out.code, out.stdout, error.type, error.param]).toEqual([2, '', 'usage_error', '--expires']);
    expect(error.message).toMatch(/^--expires soon: not a duration/);
  });

  it('a flag the CLI checks itself (no call made): usage_error, exit 2', async () => {
    admin.calls.length = 0;
    const out = await runTesseraInProcess(admin.url, '--json', 'tenants', 'show', 'Acme');
    expect([out.code, out.stdout, stderrJson(out.stderr).error.type]).toEqual([2, '', 'usage_error']);
    expect(admin.calls).toEqual([]);
  });

  it('without --json the same refusal is the text line, as before', async () => {
    const out = await runTesseraInProcess(admin.url, 'tenants', 'list', '--stauts', 'ACTIVE');
    expect([out.code, out.stderr]).toEqual([2, 'error: unknown option \'--stauts\' (Did you mean --status?)\n  see `tessera tenants list --help` for the options\n']);
  });
});

describe('tessera --json: the admin API\'s 4xx is its error body as it came, with the status and request id, exit 1', () => {
  it('a 404: the body\'s message, type, param and code untouched, status 404, API Gateway\'s x-amzn-RequestId', async () => {
    const out = await runTesseraInProcess(admin.url, '--json', 'tenants', 'show', 'nope');
    expect([out.code, out.stdout]).toEqual([1, '']);
    expect(stderrJson(out.stderr)).toEqual({ error: { ...NOT_FOUND.error, status: 404, request_id: 'c0ffee00-0000-4000-8000-000000000404' } });
    // The text line of the same failure, unchanged.
    expect((await runTesseraInProcess(admin.url, 'tenants', 'show', 'nope')).stderr).toBe('error: tenant "nope" does not exist (tenant_not_found, field id)\n');
  });

  it('a 409: what the body says beside error (the operation holding the tenant) is passed on too', async () => {
    const out = await runTesseraInProcess(admin.url, '--json', 'tenants', 'suspend', 'acme', '--request-id', 'ops-suspend-1');
    expect(out.code).toBe(1);
    expect(stderrJson(out.stderr)).toEqual({ ...HELD, error: { ...HELD.error, status: 409 } });
  });

  it('API Gateway\'s own 403 (no admin API body): the CLI\'s line, type api_gateway_error, its code, status and request id', async () => {
    const out = await runTesseraInProcess(admin.url, '--json', 'tenants', 'show', 'denied');
    expect(out.code).toBe(1);
    expect(stderrJson(out.stderr)).toEqual({
      error: {
        message: expect.stringMatching(/^the admin API at .* refused your AWS identity \(403 from API Gateway\): it needs execute-api:Invoke/),
        type: 'api_gateway_error', code: 'AccessDenied', status: 403, request_id: 'c0ffee00-0000-4000-8000-000000000403',
      },
    });
  });
});

describe('tessera --json: the admin API unreachable, exit 1', () => {
  it('a closed port: connection_error with the network code, no status (no answer came)', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/prod`;
    const out = await runTesseraInProcess(url, '--json', 'tenants', 'list');
    expect([out.code, out.stdout]).toEqual([1, '']);
    expect(stderrJson(out.stderr)).toEqual({ error: { message: expect.stringMatching(/^cannot reach the admin API at http:\/\/127\.0\.0\.1:\d+\/prod: the connection to 127\.0\.0\.1:\d+ failed \(ECONNREFUSED\)/), type: 'connection_error', code: 'ECONNREFUSED' } });
  });

  it('--debug: the stack trace first, the JSON line last', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/prod`;
    const out = await runTesseraInProcess(url, '--json', '--debug', 'tenants', 'list');
    const lines = out.stderr.trimEnd().split('\n');
    expect(lines.some((l) => /^\s+at /.test(l))).toBe(true);
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ error: { type: 'connection_error', code: 'ECONNREFUSED' } });
  });
});

describe('tessera --json: a local config error, exit 2', () => {
  it('no admin API URL: config_error no_api_url, before any credentials or call', async () => {
    const saved = process.env.TESSERA_API_URL;
    const out = await runTesseraInProcess('', '--json', 'tenants', 'list').finally(() => { process.env.TESSERA_API_URL = saved; });
    expect([out.code, out.stdout]).toEqual([2, '']);
    expect(stderrJson(out.stderr)).toEqual({ error: { message: 'no admin API URL: pass --api-url or set TESSERA_API_URL (the AdminApiUrl output of the TesseraPlatform stack)', type: 'config_error', code: 'no_api_url' } });
  });

  it('an invalid --config: config_error invalid_config with the config\'s source and each problem', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'homeRegoin: us-east-1\n');
    const out = await runTesseraInProcess(admin.url, '--json', 'tenants', 'failover-plan', 'acme', '--config', bad);
    expect(out.code).toBe(2);
    expect(stderrJson(out.stderr)).toEqual({
      error: {
        message: expect.stringMatching(/^Invalid Tessera config/), type: 'config_error', code: 'invalid_config', source: `embedded default + ${bad}`,
        problems: [`${bad}: homeRegoin = "us-east-1": is not a top-level key; did you mean \`homeRegion\`?`],
      },
    });
  });
});

describe('errorJson and asksJson', () => {
  it('asksJson: --json anywhere before a --', () => {
    expect([asksJson(['--json', 'tenants', 'list']), asksJson(['tenants', 'list', '--json']), asksJson(['dlq', '--', '--json'])]).toEqual([true, true, false]);
  });

  it('a CliError that says an admin API error in its own words: the body passed on, the CLI\'s line as cli_message', () => {
    const api = new AdminApiError(400, 'limits.tokensPerDay = 2000000: above the tier\'s 1000000', 'invalid_limit', 'limits.tokensPerDay', 1,
      { body: { error: { message: 'limits.tokensPerDay = 2000000: above the tier\'s 1000000', type: 'invalid_request_error', param: 'limits.tokensPerDay', code: 'invalid_limit' } } });
    expect(errorJson(new CliError('--tokens-per-day 2000000: above the tier\'s 1000000 (invalid_limit)', 2, undefined, api))).toEqual({
      error: { message: 'limits.tokensPerDay = 2000000: above the tier\'s 1000000', type: 'invalid_request_error', param: 'limits.tokensPerDay', code: 'invalid_limit', status: 400, cli_message: '--tokens-per-day 2000000: above the tier\'s 1000000 (invalid_limit)' },
    });
  });

  it('an AWS SDK error (a direct AWS call): aws_error, its name, HTTP status and request id from $metadata', () => {
    const sdk = Object.assign(new Error('Access to the resource is denied'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 403, requestId: 'f00d' } });
    expect(errorJson(sdk)).toEqual({ error: { message: 'Access to the resource is denied', type: 'aws_error', code: 'AccessDeniedException', status: 403, request_id: 'f00d' } });
  });

  it('tessera dlq: the SDK error behind its line (the real SQS client\'s exception) gives aws_error, its name, status and request id', async () => {
    const refused = new SQSServiceException({ name: 'AccessDenied', $fault: 'client', message: 'User is not authorized to perform: sqs:ListQueues',
      $metadata: { httpStatusCode: 403, requestId: '0f4e5d6c-1111-5222-8333-444455556666' } });
    const thrown = await call('sqs:ListQueues (prefix tessera-dlq-)', () => Promise.reject(refused)).catch((e: unknown) => e);
    expect(errorJson(thrown)).toEqual({
      error: { message: (thrown as CliError).message, type: 'aws_error', code: 'AccessDenied', status: 403, request_id: '0f4e5d6c-1111-5222-8333-444455556666' },
    });
  });

  it('anything else: internal_error with the first line of its message', () => {
    expect(errorJson(new TypeError('x is undefined\nmore'))).toEqual({ error: { message: 'x is undefined', type: 'internal_error' } });
  });
});
