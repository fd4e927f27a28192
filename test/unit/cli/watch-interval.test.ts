import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { tesseraProgram } from '../../../lib/cli/program.js';
import { runTesseraInProcess } from '../../integration/support/tessera-cli.js';
import { fakeAdminApi } from './fake-admin-api.js';

/**
 * (a new user on the local platform): `tessera tenants update acme --blueprint-version 2.0.0 --watch --interval 0.5`
 * was refused, `error: unknown option '--interval'`, while `tenants create`, `suspend`, `resume`, `delete`, `retry` and
 * `upgrade` take it with their `--watch` (docs/tenant-lifecycle.md's transcripts use `--watch --interval 0.5`); update
 * polled every 2 s, fixed. The admin API's answers below are the shapes of `PATCH /admin/tenants/{id}` and the execution
 * route (lambdas/admin/admin-api.ts), served on loopback.
 */
const CHANGE = 'arn:aws:states:us-east-1:222222222222:execution:tessera-change:change-acme-mx9ft93j-6807fe0b';
const progress = {
  tenantId: 'acme', executionArn: CHANGE, kind: 'change', status: 'ACTIVE', executionStatus: 'SUCCEEDED',
  startDate: '2026-12-04T20:29:00.000Z', stopDate: '2026-12-04T20:29:00.600Z', steps: [{ name: 'Finish change', status: 'SUCCEEDED', seconds: 0.1 }],
};
const admin = fakeAdminApi((req) => (req.method === 'PATCH' ? { status: 202, body: { tenantId: 'acme', executionArn: CHANGE, status: 'UPDATING' } } : { status: 200, body: progress }));

/** Every command under `c` (itself included), with its path: `tessera tenants update`. */
function commandsOf(c: Command, path: readonly string[] = []): Array<{ path: string; command: Command }> {
  const here = [...path, c.name()];
  return [{ path: here.join(' '), command: c }, ...c.commands.flatMap((s) => commandsOf(s, here))];
}

describe('--watch and --interval go together', () => {
  it('every command with --watch takes --interval <seconds>', async () => {
    const watching = commandsOf(await tesseraProgram()).filter(({ command }) => command.options.some((o) => o.long === '--watch'));
    expect(watching.map((w) => w.path)).toContain('tessera tenants update');
    const without = watching.filter(({ command }) => !command.options.some((o) => o.long === '--interval')).map((w) => w.path);
    expect(without, 'commands with --watch but no --interval').toEqual([]);
  });

  it('tenants update --watch --interval 0.1 follows the change it started, polling the execution route', async () => {
    admin.calls.length = 0;
    const out = await runTesseraInProcess(admin.url, 'tenants', 'update', 'acme', '--blueprint-version', '2.0.0', '--request-id', 'ops-1', '--watch', '--interval', '0.1');
    expect([out.code, out.stderr]).toEqual([0, '']);
    expect(out.stdout).toMatch(/^change of acme started — request ops-1\nexecution arn:.*\n[\s\S]*change succeeded in 0\.6 s — tenant acme is ACTIVE\n$/);
    expect(admin.calls[0]).toBe('PATCH /v1/admin/tenants/acme');
    expect(admin.calls.slice(1).every((c) => c.startsWith(`GET /v1/admin/tenants/acme/execution?executionArn=${encodeURIComponent(CHANGE)}`)), admin.calls.join('\n')).toBe(true);
  });

  it('tenants update without --watch says how to follow the change it started (the execution alone told a new user nothing)', async () => {
    admin.calls.length = 0;
    const out = await runTesseraInProcess(admin.url, 'tenants', 'update', 'acme', '--blueprint-version', '2.0.0', '--request-id', 'ops-2');
    expect([out.code, out.stderr]).toEqual([0, '']);
    expect(out.stdout).toBe(`change of acme started — request ops-2\nexecution ${CHANGE}\nfollow it: tessera tenants watch acme (or add --watch)\n`);
    expect(admin.calls).toEqual(['PATCH /v1/admin/tenants/acme']);
  });

  it('tenants update refuses an --interval that is no number of seconds before any call (exit 2)', async () => {
    admin.calls.length = 0;
    const out = await runTesseraInProcess(admin.url, 'tenants', 'update', 'acme', '--blueprint-version', '2.0.0', '--watch', '--interval', 'soon');
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/^error: option '--interval <seconds>' argument 'soon' is invalid\. Expected a number of seconds from 0\.1 to 300\./);
    expect(admin.calls).toEqual([]);
  });
});
