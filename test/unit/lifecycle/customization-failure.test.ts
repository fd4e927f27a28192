import { describe, expect, it } from 'vitest';
import { failedCustomizations, MAX_CUSTOMIZATION_FAILURE_REASON_BYTES } from '../../../lambdas/lifecycle/customization-failure.js';
import { MAX_REASON_BYTES } from '../../../lambdas/lifecycle/catch-reason.js';
import { TenantRecord } from '../../../lib/tenant-record.js';

const at = '2026-12-07T10:00:00.000Z';
const record = (names: string[]) => TenantRecord.parse({
  tenantId: 'acme', name: 'Acme', tier: 'enterprise', isolation: 'account', adminEmail: 'ops@acme.example.com', status: 'UPDATING',
  requestId: 'req-acme-0001', createdAt: at, updatedAt: at,
  customizations: {
    ...Object.fromEntries(names.map((n) => [n, { stackName: `tessera-acme-custom-${n}`, status: 'DEPLOYING', tier: 'enterprise', blueprintVersion: '0.11.0', updatedAt: at }])),
    done: { stackName: 'tessera-acme-custom-done', status: 'ACTIVE', tier: 'enterprise', updatedAt: at },
  },
});

describe('failedCustomizations', () => {
  it('repeats only the head of the failure\'s reason on each DEPLOYING customization (at most MAX_CUSTOMIZATION_FAILURE_REASON_BYTES), naming where the whole is', () => {
    // a failure reason at its bound (MAX_REASON_BYTES), in CJK: before, each of the n customizations kept all 2,000 bytes of it
    const reason = `StackFailed: ${'スタックの更新に失敗しました'.repeat(60)}`.slice(0, 660);
    expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(MAX_REASON_BYTES);
    const out = failedCustomizations(record(['audit', 'search', 'backup']), { kind: 'change', step: 'Deploy customizations', reason, at })!;
    for (const n of ['audit', 'search', 'backup']) {
      const c = out[n];
      expect(c).toMatchObject({ status: 'FAILED', updatedAt: at, tier: 'enterprise', blueprintVersion: '0.11.0' });
      const [line, head] = c.reason!.split(': StackFailed: ');
      expect(line).toBe(`the change failed at Deploy customizations while stack tessera-acme-custom-${n} was being deployed (tier enterprise, version 0.11.0), before its create or update was seen to complete`);
      expect(Buffer.byteLength(`StackFailed: ${head}`)).toBeLessThanOrEqual(MAX_CUSTOMIZATION_FAILURE_REASON_BYTES);
      expect(head).toMatch(new RegExp(` … \\(${reason.length} characters; the rest is in the failure's reason and the execution's history entry\\)$`));
      expect(c.reason).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|\ufffd/);
    }
    expect(out.done).toMatchObject({ status: 'ACTIVE' });
  });

  it('keeps a short reason whole, and writes nothing when none is DEPLOYING', () => {
    const out = failedCustomizations(record(['audit']), { kind: 'upgrade', step: 'Deploy blueprint', reason: 'States.Timeout: Task timed out', at })!;
    expect(out.audit.reason).toMatch(/before its create or update was seen to complete: States\.Timeout: Task timed out$/);
    expect(failedCustomizations(record([]), { kind: 'upgrade', step: 'Deploy blueprint', reason: 'x', at })).toBeUndefined();
  });
});
