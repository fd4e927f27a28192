import { APIGatewayClient, CreateApiKeyCommand, CreateUsagePlanKeyCommand, DeleteApiKeyCommand, DeleteUsagePlanKeyCommand, GetApiKeysCommand, GetUsagePlansCommand, APIGatewayServiceException } from '@aws-sdk/client-api-gateway';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { records, registryMock } from './registry-mock.js';
import { leased, setLifecycleEnv, state, tenant } from './support.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
const api = mockStrict(APIGatewayClient, 'apigateway', APIGatewayServiceException);
const { handler, settleUsageKey } = await import('../../../lambdas/lifecycle/manage-usage-key.js');

beforeEach(() => {
  setLifecycleEnv();
  records.clear();
  api.reset();
  api.on(GetUsagePlansCommand).resolves({ items: [{ id: 'plan-s', name: 'tessera-starter' }, { id: 'plan-p', name: 'tessera-professional' }] });
  // The plans a key is in (GetUsagePlans' keyId filter): key-1 in starter's
  api.on(GetUsagePlansCommand, { keyId: 'key-1' }).resolves({ items: [{ id: 'plan-s', name: 'tessera-starter' }] });
  api.on(GetUsagePlansCommand, { keyId: 'key-0' }).resolves({ items: [] });
  api.on(CreateApiKeyCommand).resolves({ id: 'key-1' });
  api.on(GetApiKeysCommand).resolves({ items: [] });
});

describe('Manage usage key', () => {
  it('issues a key into the tier\'s plan and records it', async () => {
    records.set('acme', leased('onboard'));
    api.on(GetUsagePlansCommand, { keyId: 'key-1' }).resolves({ items: [] });
    await expect(handler({ ...state(), usageKey: 'issue' })).resolves.toEqual({ keyId: 'key-1', plan: 'plan-s' });
    expect(api.commandCalls(CreateApiKeyCommand)[0].args[0].input).toMatchObject({ name: 'tessera-acme', enabled: true, tags: { 'tessera:tenant-id': 'acme' } });
    expect(api.commandCalls(CreateUsagePlanKeyCommand)[0].args[0].input).toEqual({ usagePlanId: 'plan-s', keyId: 'key-1', keyType: 'API_KEY' });
    expect(records.get('acme')?.usageKey).toMatchObject({ id: 'key-1', plan: 'plan-s', value: expect.stringMatching(/^[0-9a-f]{48}$/) });
  });

  it('moves the key on a tier change and does nothing twice', async () => {
    records.set('acme', leased('change', { usageKey: { id: 'key-1', value: 'v', plan: 'plan-s' } }));
    api.on(DeleteUsagePlanKeyCommand).callsFake(() => {
      api.on(GetUsagePlansCommand, { keyId: 'key-1' }).resolves({ items: [] });
      return {};
    });
    api.on(CreateUsagePlanKeyCommand).callsFake(() => {
      api.on(GetUsagePlansCommand, { keyId: 'key-1' }).resolves({ items: [{ id: 'plan-p', name: 'tessera-professional' }] });
      return {};
    });
    await handler({ ...state(), usageKey: 'issue', change: { tier: 'professional' } });
    expect(api.commandCalls(DeleteUsagePlanKeyCommand)[0].args[0].input).toEqual({ usagePlanId: 'plan-s', keyId: 'key-1' });
    expect(api.commandCalls(CreateUsagePlanKeyCommand)[0].args[0].input.usagePlanId).toBe('plan-p');
    expect(api.commandCalls(CreateApiKeyCommand)).toHaveLength(0);
    await handler({ ...state(), usageKey: 'issue', change: { tier: 'professional' } });
    expect(api.commandCalls(CreateUsagePlanKeyCommand)).toHaveLength(1);
  });

  it('puts the key back in its plan when the new plan refuses it, so a failed change never leaves the tenant in no plan', async () => {
    records.set('acme', leased('change', { usageKey: { id: 'key-1', value: 'v', plan: 'plan-s' } }));
    api.on(CreateUsagePlanKeyCommand, { usagePlanId: 'plan-p' }).rejects(Object.assign(new Error('refused'), { name: 'BadRequestException' }));
    api.on(CreateUsagePlanKeyCommand, { usagePlanId: 'plan-s' }).resolves({});
    await expect(handler({ ...state(), usageKey: 'issue', change: { tier: 'professional' } })).rejects.toMatchObject({ name: 'BadRequestException' });
    expect(api.commandCalls(CreateUsagePlanKeyCommand).map((c) => c.args[0].input.usagePlanId)).toEqual(['plan-p', 'plan-s']);
    expect(records.get('acme')?.usageKey?.plan).toBe('plan-s');
  });

  it('a put-back that fails too leaves the plan not known: the next issue for the old tier puts the key in its plan (it was recorded there, in no plan)', async () => {
    records.set('acme', leased('change', { usageKey: { id: 'key-1', value: 'v', plan: 'plan-s' } }));
    api.on(DeleteUsagePlanKeyCommand).callsFake(() => {
      api.on(GetUsagePlansCommand, { keyId: 'key-1' }).resolves({ items: [] });
      return {};
    });
    api.on(CreateUsagePlanKeyCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));
    await expect(handler({ ...state(), usageKey: 'issue', change: { tier: 'professional' } })).rejects.toMatchObject({ name: 'TooManyRequestsException' });
    // The key is in no plan now: the registry does not say plan-s.
    expect(records.get('acme')?.usageKey?.plan).toBe('');
    api.on(CreateUsagePlanKeyCommand).resolves({});
    await expect(handler({ ...state(), usageKey: 'issue', change: { tier: 'starter' } })).resolves.toEqual({ keyId: 'key-1', plan: 'plan-s' });
    expect(api.commandCalls(CreateUsagePlanKeyCommand).at(-1)!.args[0].input).toEqual({ usagePlanId: 'plan-s', keyId: 'key-1', keyType: 'API_KEY' });
    expect(records.get('acme')?.usageKey?.plan).toBe('plan-s');
  });

  // Faults pass: the plan was recorded after the move only. A Lambda timeout between the move and its record left the
  // registry naming starter's plan while the key was in professional's; the next move took it out of starter's plan only.
  it('records the plan as not known before a move, and a later move takes the key out of the plan it is really in', async () => {
    // GIVEN a move to professional whose Lambda is stopped (a timeout) right after CreateUsagePlanKey
    records.set('acme', leased('change', { usageKey: { id: 'key-1', value: 'v', plan: 'plan-s' } }));
    let stopped!: () => void;
    const timedOut = new Promise<void>((resolve) => (stopped = resolve));
    api.on(CreateUsagePlanKeyCommand, { usagePlanId: 'plan-p' }).callsFake(() => {
      stopped();
      return new Promise<never>(() => undefined); // nothing after the move runs
    });
    void handler({ ...state(), usageKey: 'issue', change: { tier: 'professional' } });
    await timedOut;
    // THEN the registry does not name starter's plan, which the key has left
    expect(records.get('acme')?.usageKey).toEqual({ id: 'key-1', value: 'v', plan: '' });
    // WHEN the next change (back to starter) runs, the key being in professional's plan (API Gateway's answer)
    api.reset();
    api.on(GetUsagePlansCommand).resolves({ items: [{ id: 'plan-s', name: 'tessera-starter' }, { id: 'plan-p', name: 'tessera-professional' }] });
    api.on(GetUsagePlansCommand, { keyId: 'key-1' }).resolves({ items: [{ id: 'plan-p', name: 'tessera-professional' }] });
    await handler({ ...state(), usageKey: 'issue', change: { tier: 'starter' } });
    // THEN it leaves professional's plan for starter's, and the record says starter's
    expect(api.commandCalls(DeleteUsagePlanKeyCommand).map((c) => c.args[0].input)).toEqual([{ usagePlanId: 'plan-p', keyId: 'key-1' }]);
    expect(api.commandCalls(CreateUsagePlanKeyCommand).map((c) => c.args[0].input.usagePlanId)).toEqual(['plan-s']);
    expect(records.get('acme')?.usageKey).toEqual({ id: 'key-1', value: 'v', plan: 'plan-s' });
  });

  it('revokes the key at offboarding', async () => {
    records.set('acme', leased('offboard', { usageKey: { id: 'key-1', value: 'v', plan: 'plan-s' } }));
    await handler({ ...state(), usageKey: 'revoke' });
    expect(api.commandCalls(DeleteApiKeyCommand)[0].args[0].input).toEqual({ apiKey: 'key-1' });
    expect(records.get('acme')?.usageKey).toBeUndefined();
  });

  it('uses the key an earlier attempt created without recording it (found by name and tag), deleting the tenant\'s other unrecorded keys; another tenant\'s keys are not its', async () => {
    records.set('acme', leased('onboard'));
    api.on(GetApiKeysCommand).resolves({ items: [
      { id: 'key-0', name: 'tessera-acme', value: 'v0', tags: { 'tessera:tenant-id': 'acme' } },
      { id: 'key-x', name: 'tessera-acme', value: 'vx', tags: { 'tessera:tenant-id': 'acme' } },
      { id: 'key-y', name: 'tessera-acme-corp', value: 'vy', tags: { 'tessera:tenant-id': 'acme-corp' } },
      { id: 'key-z', name: 'tessera-acme', value: 'vz', tags: {} },
    ] });
    await expect(handler({ ...state(), usageKey: 'issue' })).resolves.toEqual({ keyId: 'key-0', plan: 'plan-s' });
    expect(api.commandCalls(GetApiKeysCommand)[0].args[0].input).toMatchObject({ nameQuery: 'tessera-acme', includeValues: true });
    expect(api.commandCalls(CreateApiKeyCommand)).toHaveLength(0);
    expect(api.commandCalls(DeleteApiKeyCommand).map((c) => c.args[0].input.apiKey)).toEqual(['key-x']);
    expect(records.get('acme')?.usageKey).toEqual({ id: 'key-0', value: 'v0', plan: 'plan-s' });
  });

  it('revokes every key of the tenant at offboarding, recorded or not', async () => {
    records.set('acme', leased('offboard', { usageKey: { id: 'key-1', value: 'v', plan: 'plan-s' } }));
    api.on(GetApiKeysCommand).resolves({ items: [{ id: 'key-1', name: 'tessera-acme', tags: { 'tessera:tenant-id': 'acme' } }, { id: 'key-orphan', name: 'tessera-acme', tags: { 'tessera:tenant-id': 'acme' } }] });
    api.on(DeleteApiKeyCommand, { apiKey: 'key-1' }).rejects(Object.assign(new Error('gone'), { name: 'NotFoundException' }));
    await handler({ ...state(), usageKey: 'revoke' });
    expect(api.commandCalls(DeleteApiKeyCommand).map((c) => c.args[0].input.apiKey)).toEqual(['key-1', 'key-orphan']);
    expect(records.get('acme')?.usageKey).toBeUndefined();
  });

  it('issues nothing for an execution that does not hold the tenant\'s lease', async () => {
    const before = leased('onboard', {}, 'arn:aws:states:us-east-1:222222222222:execution:tessera-onboard:other');
    records.set('acme', before);
    await expect(handler({ ...state(), usageKey: 'issue' })).rejects.toMatchObject({ name: 'TenantBusy' });
    expect(api.commandCalls(CreateApiKeyCommand)).toHaveLength(0);
    expect(records.get('acme')).toEqual(before);
  });

  it('names the missing plan when the platform stack is not deployed', async () => {
    records.set('acme', leased('onboard', { tier: 'enterprise' }));
    await expect(handler({ ...state(), usageKey: 'issue' })).rejects.toThrow(/usage plan "tessera-enterprise" does not exist; deploy the TesseraPlatform stack/);
  });

  it('clears a move a recorded standing left pending once the key is in its tier\'s plan', async () => {
    records.set('acme', leased('change', { usageKey: { id: 'key-1', value: 'v', plan: 'plan-s', movePending: { tier: 'starter', at: '2026-12-05T03:00:00.000Z', error: 'x' } } }));
    await expect(handler({ ...state(), usageKey: 'issue', change: { tier: 'starter' } })).resolves.toEqual({ keyId: 'key-1', plan: 'plan-s' });
    expect(records.get('acme')?.usageKey).toEqual({ id: 'key-1', value: 'v', plan: 'plan-s' });
  });
});

// A tier recorded from a change's stack standing (Record failure, End stopped execution, Check drift): the key follows it.
describe('settleUsageKey', () => {
  const active = (overrides: Parameters<typeof tenant>[0] = {}) => tenant({ status: 'ACTIVE', tier: 'professional', usageKey: { id: 'key-1', value: 'v', plan: 'plan-s' }, ...overrides });

  it('moves the key out of the old tier\'s plan into the recorded tier\'s, and records the plan (no lease held)', async () => {
    records.set('acme', active());
    await expect(settleUsageKey('acme')).resolves.toMatchObject({ outcome: 'moved', note: expect.stringContaining('usage plan tessera-professional (plan-p) of tier professional') });
    expect(api.commandCalls(DeleteUsagePlanKeyCommand).map((c) => c.args[0].input)).toEqual([{ usagePlanId: 'plan-s', keyId: 'key-1' }]);
    expect(api.commandCalls(CreateUsagePlanKeyCommand).map((c) => c.args[0].input)).toEqual([{ usagePlanId: 'plan-p', keyId: 'key-1', keyType: 'API_KEY' }]);
    expect(records.get('acme')?.usageKey).toEqual({ id: 'key-1', value: 'v', plan: 'plan-p' });
    expect(api.commandCalls(CreateApiKeyCommand)).toHaveLength(0);
  });

  it('verify: a key in two plans (its tier\'s and another) is taken out of the other; the record trusted without verify', async () => {
    records.set('acme', active({ usageKey: { id: 'key-1', value: 'v', plan: 'plan-p' } }));
    api.on(GetUsagePlansCommand, { keyId: 'key-1' }).resolves({ items: [{ id: 'plan-s', name: 'tessera-starter' }, { id: 'plan-p', name: 'tessera-professional' }] });
    await expect(settleUsageKey('acme')).resolves.toEqual({ outcome: 'in-plan' });
    expect(api.commandCalls(GetUsagePlansCommand).map((c) => c.args[0].input.keyId)).toEqual([undefined]);
    api.resetHistory();
    await expect(settleUsageKey('acme', { verify: true })).resolves.toEqual({ outcome: 'moved', note: 'usage key key-1 moved into usage plan tessera-professional (plan-p) of tier professional (it was in tessera-starter and tessera-professional)' });
    expect(api.commandCalls(DeleteUsagePlanKeyCommand).map((c) => c.args[0].input)).toEqual([{ usagePlanId: 'plan-s', keyId: 'key-1' }]);
    expect(api.commandCalls(CreateUsagePlanKeyCommand)).toHaveLength(0);
    // one read of where the key is: the tier's plan is among them (no listing of every plan)
    expect(api.commandCalls(GetUsagePlansCommand).map((c) => c.args[0].input.keyId)).toEqual(['key-1']);
    expect(records.get('acme')?.usageKey).toEqual({ id: 'key-1', value: 'v', plan: 'plan-p' });
  });

  it('does nothing for a key already in the recorded tier\'s plan, or a tenant without a key', async () => {
    records.set('acme', active({ usageKey: { id: 'key-1', value: 'v', plan: 'plan-p' } }));
    await expect(settleUsageKey('acme')).resolves.toEqual({ outcome: 'in-plan' });
    records.set('acme', active({ usageKey: undefined }));
    await expect(settleUsageKey('acme')).resolves.toEqual({ outcome: 'no-key' });
    expect(api.commandCalls(CreateUsagePlanKeyCommand)).toHaveLength(0);
    expect(api.commandCalls(DeleteUsagePlanKeyCommand)).toHaveLength(0);
  });

  it('a refused move puts the key back and records the move pending (tier, time, error); never throws; the next settle makes it and clears it', async () => {
    records.set('acme', active());
    api.on(CreateUsagePlanKeyCommand, { usagePlanId: 'plan-p' }).rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));
    api.on(CreateUsagePlanKeyCommand, { usagePlanId: 'plan-s' }).resolves({});
    await expect(settleUsageKey('acme')).resolves.toMatchObject({ outcome: 'pending', note: expect.stringMatching(/not moved into usage plan tessera-professional of tier professional \(TooManyRequestsException: Rate exceeded\): recorded pending/) });
    expect(records.get('acme')?.usageKey).toEqual({ id: 'key-1', value: 'v', plan: 'plan-s', movePending: { tier: 'professional', at: expect.any(String), error: 'TooManyRequestsException: Rate exceeded' } });
    api.on(CreateUsagePlanKeyCommand, { usagePlanId: 'plan-p' }).resolves({});
    await expect(settleUsageKey('acme')).resolves.toMatchObject({ outcome: 'moved' });
    expect(records.get('acme')?.usageKey).toEqual({ id: 'key-1', value: 'v', plan: 'plan-p' });
  });

  it('leaves the key to an operation that took the tenant meanwhile (its own Move usage key places it, an offboarding revokes it): nothing moved, nothing written', async () => {
    for (const held of [leased('change', { tier: 'professional', usageKey: { id: 'key-1', value: 'v', plan: 'plan-s' } }), leased('offboard', { tier: 'professional', usageKey: { id: 'key-1', value: 'v', plan: 'plan-s' } })]) {
      records.set('acme', held);
      await expect(settleUsageKey('acme')).resolves.toMatchObject({ outcome: 'left', note: expect.stringContaining(`the tenant is held by ${held.lease!.kind}`) });
      expect(records.get('acme')).toEqual(held);
    }
    expect(api.commandCalls(CreateUsagePlanKeyCommand)).toHaveLength(0);
    expect(api.commandCalls(DeleteUsagePlanKeyCommand)).toHaveLength(0);
  });
});
