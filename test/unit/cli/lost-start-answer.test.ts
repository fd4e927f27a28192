import { describe, expect, it } from 'vitest';
import { AdminApiError, lostStartAnswer, transportError } from '../../../lib/cli/admin-api-errors.js';
import { CliError } from '../../../lib/cli/cli-error.js';
import { runTesseraInProcess } from '../../integration/support/tessera-cli.js';
import { fakeAdminApi } from './fake-admin-api.js';

/**
 * `tessera tenants create`, `update`, `suspend` and `resume` make a request id when --request-id is not given
 * (`cli-<uuid>`: the onboarding's requestId, or the Idempotency-Key) and printed it only with the answer. A start whose
 * answer was lost (API Gateway's 504 after 29 s while the handler ran on, a 5xx, no answer at all) said "a request with
 * its requestId or Idempotency-Key sent again answers with the first" of an id the operator never saw; the same command
 * again made a new one, which met the started operation as a 409. As `tenants upgrade` (commit 5cf1ee1), the error now
 * names it with the command that sends the same request again and the one that follows it. Answers served on loopback.
 */
let answer: { status: number; body: unknown } = { status: 504, body: { message: 'Endpoint request timed out' } };
const seen: Array<{ idempotencyKey?: string; body?: { requestId?: string } }> = [];
const admin = fakeAdminApi((req) => {
  const chunks: Buffer[] = [];
  const entry: (typeof seen)[number] = { idempotencyKey: req.headers['idempotency-key'] as string | undefined };
  seen.push(entry);
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => { if (chunks.length) entry.body = JSON.parse(Buffer.concat(chunks).toString('utf8')); });
  return answer;
});

async function run(given: { status: number; body: unknown }, ...args: string[]) {
  answer = given;
  seen.length = 0;
  return runTesseraInProcess(admin.url, ...args);
}

const lost = { status: 504, body: { message: 'Endpoint request timed out' } };
const line = (what: string, made: string) =>
  `if the admin API received the request, the ${what} may have started: its request id is ${made}; the same command with --request-id ${made} answers with that ${what} (or starts it), tessera tenants watch acme follows it`;

describe('a start whose answer was lost names the request id the CLI made', () => {
  it('tenants create (API Gateway\'s 504): the onboarding\'s requestId, with --request-id to send it again and tenants watch to follow it', async () => {
    const out = await run(lost, 'tenants', 'create', '--id', 'acme', '--name', 'Acme', '--tier', 'starter', '--admin-email', 'ops@acme.example.com');
    const made = seen[0].body!.requestId!;
    expect(made).toMatch(/^cli-[0-9a-f-]{36}$/);
    expect([out.code, out.stderr]).toEqual([1, `error: Endpoint request timed out\n${line('onboarding', made)}\n`]);
  });

  it('tenants update (a 503) and tenants suspend / resume (a 502): the Idempotency-Key sent', async () => {
    const update = await run({ status: 503, body: { message: 'Service Unavailable' } }, 'tenants', 'update', 'acme', '--tier', 'professional');
    expect([update.code, update.stderr]).toEqual([1, `error: Service Unavailable\n${line('change', seen[0].idempotencyKey!)}\n`]);
    for (const action of ['suspend', 'resume']) {
      const out = await run({ status: 502, body: { message: 'Internal server error' } }, 'tenants', action, 'acme');
      expect(seen[0].idempotencyKey).toMatch(/^cli-/);
      expect([out.code, out.stderr]).toEqual([1, `error: Internal server error\n${line(action, seen[0].idempotencyKey!)}\n`]);
    }
  });

  it('a refusal (4xx: nothing started) is said as the API says it; a --request-id given is the operator\'s own', async () => {
    const refused = await run({ status: 409, body: { error: { type: 'invalid_request_error', code: 'tenant_busy', param: 'id', message: 'tenant acme: another operation runs' } } }, 'tenants', 'suspend', 'acme');
    expect([refused.code, refused.stderr]).toEqual([1, 'error: tenant acme: another operation runs (tenant_busy, field id)\n']);
    const given = await run(lost, 'tenants', 'update', 'acme', '--tier', 'professional', '--request-id', 'ops-1');
    expect([given.code, given.stderr]).toEqual([1, 'error: Endpoint request timed out\n']);
    const givenCreate = await run(lost, 'tenants', 'create', '--id', 'acme', '--name', 'Acme', '--tier', 'starter', '--admin-email', 'ops@acme.example.com', '--request-id', 'ops-acme-2');
    expect(givenCreate.stderr).toBe('error: Endpoint request timed out\n');
  });
});

describe('lostStartAnswer', () => {
  it('no answer within the timeout (status 0): the timeout\'s message, then the request id; the error\'s exit code kept', () => {
    const timeout = transportError(Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' }), 'https://api.example/prod', { method: 'POST', path: '/admin/tenants', timeoutMs: 60_000 });
    const e = lostStartAnswer(timeout, 'cli-1', 'onboarding', 'tessera tenants watch acme') as CliError;
    expect(e).toBeInstanceOf(CliError);
    expect(e.message).toBe(`${timeout.message}\nif the admin API received the request, the onboarding may have started: its request id is cli-1; the same command with --request-id cli-1 answers with that onboarding (or starts it), tessera tenants watch acme follows it`);
    expect(e.exitCode).toBe(1);
    expect((lostStartAnswer(new AdminApiError(0, 'cannot sign', undefined, null, 2), 'cli-1', 'change', 'x') as CliError).exitCode).toBe(2);
    // As it is: a refusal, a request id given, not the admin API's error
    const refusal = new AdminApiError(400, 'bad');
    expect(lostStartAnswer(refusal, 'cli-1', 'change', 'x')).toBe(refusal);
    expect(lostStartAnswer(timeout, undefined, 'change', 'x')).toBe(timeout);
    const other = new Error('boom');
    expect(lostStartAnswer(other, 'cli-1', 'change', 'x')).toBe(other);
  });
});
