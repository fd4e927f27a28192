import { CloudFormationClient, DescribeStacksCommand, type Stack } from '@aws-sdk/client-cloudformation';
import { expect, it } from 'vitest';
import { getTenant } from '../../lambdas/shared/registry.js';
import { DEFAULT_CONFIG } from '../../lib/config/default-config.js';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { configWith } from '../support/config-with.js';
import { onboardRequest, useLocalLifecycle } from './support/local-lifecycle.js';

/**
 * A fault right after each Task state of a tier change onto a DR tier and off it (the step's work done, its Lambda then
 * dead: Runtime.ExitError, caught into Record failure), then the same change again: the registry's tier, version and DR
 * record must say what CloudFormation runs (the primary's tags, the DR stack's tags), the lease must be released, and the
 * retry must end on the tier asked. An account tier (enterprise with DR, `homeonly` without) through every state; a VPC
 * tier (professional with DR, `residency` without) at the states after its primary's update (VPC tiers share the platform
 * account's VPC quota: at most four tenants). Found by the fault pass of 2026-12-07: a fault after Deploy blueprint (the
 * primary's update complete, Check blueprint not run) recorded the new tier from the stack's tags but left the DR record as
 * it was: a move onto the DR tier recorded its DR stack RETAINED (Record failure judged it against the tier before), a move
 * off it kept the DR stack ACTIVE with no replicationStoppedAt (the offboarding then archives the DR bucket as a replica).
 * A state's move off the DR tier starts from the tenant its move onto it left there when that move completed (runPair),
 * else from a tenant onboarded on the DR tier.
 */
const DR_REGION = 'us-west-2';
function withoutDr(from: 'enterprise' | 'professional', pool: string) {
  const tier = structuredClone(DEFAULT_CONFIG.tiers[from]);
  tier.network.tenantCidrPool = pool;
  return tier;
}
const drSettings = { region: DR_REGION, rpoHours: 4, rtoHours: 12 };
const local = useLocalLifecycle(configWith({
  tiers: {
    enterprise: { disasterRecovery: drSettings }, homeonly: withoutDr('enterprise', '10.112.0.0/12'),
    professional: { disasterRecovery: drSettings }, residency: withoutDr('professional', '10.128.0.0/12'),
  },
}));

/** The change workflow's Task state a handler call runs as (its handler and the Parameters that tell the states apart). */
function stateOf(handler: string, event: any): string | undefined {
  if (event?.kind !== undefined && event.kind !== 'change' && handler !== 'tag-account' && handler !== 'manage-usage-key') return undefined;
  switch (handler) {
    case 'check-rebuilt-stack': return 'Check rebuilt stack';
    case 'begin-change': return 'Begin change';
    case 'deploy-blueprint': return event.stateName;
    case 'check-stack': return event.stateName;
    case 'tag-account': return event.stateName ?? 'Tag account';
    case 'manage-usage-key': return event.stateName;
    case 'finish-change': return 'Finish change';
    default: return undefined;
  }
}

async function stackOf(tenantId: string, region: string, name: string): Promise<Stack | undefined> {
  const accountId = (await getTenant(tenantId))!.accountId!;
  const cfn = new CloudFormationClient({ credentials: await local.fixture.as(accountId), region });
  try {
    return (await cfn.send(new DescribeStacksCommand({ StackName: name }))).Stacks![0];
  } catch (e) {
    if (/does not exist/.test(String(e))) return undefined;
    throw e;
  }
}
const tag = (s: Stack | undefined, key: string) => s?.Tags?.find((t) => t.Key === key)?.Value;
const out = (s: Stack | undefined, key: string) => s?.Outputs?.find((t) => t.OutputKey === key)?.OutputValue;

/** What the registry says and what CloudFormation runs, side by side. */
async function picture(tenantId: string) {
  const rec = (await getTenant(tenantId)) as TenantRecord;
  const primary = await stackOf(tenantId, 'us-east-1', `tessera-${tenantId}`);
  const dr = await stackOf(tenantId, DR_REGION, `tessera-${tenantId}-dr`);
  return {
    registry: { status: rec.status, tier: rec.tier, version: rec.blueprintVersion, lease: rec.lease?.kind, dr: rec.disasterRecovery && { status: rec.disasterRecovery.status, replicationStoppedAt: rec.disasterRecovery.replicationStoppedAt, deployedWith: rec.disasterRecovery.deployedWith?.tier, v: rec.disasterRecovery.deployedWith?.blueprintVersion }, failure: rec.failure && { step: rec.failure.step, reason: rec.failure.reason?.slice(0, 300) } },
    primary: { status: primary?.StackStatus, tier: out(primary, 'Tier') ?? tag(primary, 'tessera:tier'), tagTier: tag(primary, 'tessera:tier'), version: tag(primary, 'tessera:blueprint-version') },
    drStack: dr && { status: dr.StackStatus, tier: tag(dr, 'tessera:tier'), version: tag(dr, 'tessera:blueprint-version') },
  };
}

/** The registry's statements that must hold whatever failed. */
function truths(p: Awaited<ReturnType<typeof picture>>, drTier: boolean | undefined) {
  const problems: string[] = [];
  if (p.registry.lease) problems.push(`lease kept: ${p.registry.lease}`);
  if (p.registry.status !== 'ACTIVE') problems.push(`status ${p.registry.status}`);
  if (p.primary.tagTier !== p.registry.tier) problems.push(`primary runs ${p.primary.tagTier}, registry says ${p.registry.tier}`);
  if (p.primary.version !== p.registry.version) problems.push(`primary version ${p.primary.version}, registry says ${p.registry.version}`);
  if (p.drStack && !p.registry.dr) problems.push('DR stack standing, not recorded');
  if (!p.drStack && p.registry.dr && p.registry.dr.status !== 'REMOVED') problems.push(`DR recorded ${p.registry.dr.status}, no DR stack`);
  if (p.drStack && p.registry.dr && p.drStack.tier !== p.registry.dr.deployedWith) problems.push(`DR stack on ${p.drStack.tier}, recorded deployedWith ${p.registry.dr.deployedWith}`);
  if (p.drStack && p.registry.dr && p.drStack.version !== p.registry.dr.v) problems.push(`DR stack version ${p.drStack.version}, recorded ${p.registry.dr.v}`);
  if (drTier !== undefined && p.registry.dr) {
    const want = drTier ? 'ACTIVE' : 'RETAINED';
    if (p.registry.dr.status !== want) problems.push(`DR recorded ${p.registry.dr.status} on a ${drTier ? 'DR' : 'non-DR'} tier`);
  }
  return problems;
}

const STATES = ['Check rebuilt stack', 'Begin change', 'Deploy account baseline', 'Check account baseline', 'Deploy DR blueprint', 'Check DR blueprint', 'Deploy blueprint', 'Check blueprint', 'Tag account', 'Move usage key', 'Finish change'];

type Case = { tenant: string; plain: string; dr: string; target: string; toDr: boolean };

/**
 * One case: the tenant on the tier the move leaves, the move fails by a fault right after `target` ran, then a retry.
 * `onboard` false: the tenant is on that tier already (the move onto it that the case before completed), checked first.
 * `moved`: the case's last change execution SUCCEEDED and every check after it held (the tenant stands on the tier asked).
 */
async function runCase(c: Case, onboard: boolean, faults: Map<string, string>, problems: string[]): Promise<{ report: string[]; moved: boolean }> {
  const report: string[] = [];
  const [from, to] = c.toDr ? [c.plain, c.dr] : [c.dr, c.plain];
  const move = c.toDr ? 'on' : 'off';
  if (onboard) {
    const onboarded = await local.workflows.run('onboard', onboardRequest(c.tenant, from));
    if (onboarded.error) {
      problems.push(`${c.tenant}: onboarding failed ${onboarded.error.message}`);
      return { report, moved: false };
    }
  } else {
    const p0 = await picture(c.tenant);
    const t0 = truths(p0, p0.registry.tier === c.dr);
    if (p0.registry.tier !== from || !p0.drStack) t0.push(`not on ${from} with its DR stack`);
    if (t0.length) {
      problems.push(`${c.tenant} before its move ${from}->${to}: ${t0.join('; ')} ${JSON.stringify(p0)}`);
      return { report, moved: false };
    }
  }
  faults.set(c.tenant, c.target);
  const first = await local.workflows.run('change', { request: { tenantId: c.tenant, requestId: `req-${c.tenant}-${move}-1` }, change: { tier: to } });
  const fired = !faults.has(c.tenant);
  faults.delete(c.tenant);
  const p1 = await picture(c.tenant);
  const t1 = truths(p1, p1.registry.tier === c.dr);
  const head = `${c.tenant} after ${c.target} ${from}->${to}`;
  if (!fired) {
    // A state the move does not pass (the DR states off a DR tier, Tag account on a VPC tier): it must have succeeded.
    if (first.status !== 'SUCCEEDED') problems.push(`${head}: not reached, ${first.status}`);
    return { report: [`${head}: not reached (${first.status})`], moved: false };
  }
  // Off the DR tier, the DR bucket is no longer a replica from then on (the offboarding's inventory reads it so).
  if (!c.toDr && p1.registry.tier === c.plain && !p1.registry.dr?.replicationStoppedAt) t1.push('moved off the DR tier, no replicationStoppedAt');
  if (t1.length) problems.push(`${head}: ${t1.join('; ')} ${JSON.stringify(p1)}`);
  report.push(`${head}: ${first.status} failure=${p1.registry.failure?.step}; ${t1.length ? 'PROBLEMS ' + t1.join('; ') + ' ' + JSON.stringify(p1) : 'consistent'}`);
  if (p1.registry.tier === to) return { report, moved: first.status === 'SUCCEEDED' && !t1.length };
  const retry = await local.workflows.run('change', { request: { tenantId: c.tenant, requestId: `req-${c.tenant}-${move}-2` }, change: { tier: to } });
  const p2 = await picture(c.tenant);
  const t2 = truths(p2, p2.registry.tier === c.dr);
  if (p2.registry.tier !== to) t2.push(`retry left tier ${p2.registry.tier}`);
  if (!c.toDr && !p2.registry.dr?.replicationStoppedAt) t2.push('moved off the DR tier, no replicationStoppedAt');
  if (retry.status !== 'SUCCEEDED') t2.push(`retry ${retry.status}: ${retry.error?.message}`);
  if (t2.length) problems.push(`${head}, retried: ${t2.join('; ')} ${JSON.stringify(p2)}`);
  report.push(`   retry: ${retry.status} ${retry.error?.message?.slice(0, 200) ?? ''} ${t2.length ? 'PROBLEMS ' + t2.join('; ') + ' ' + JSON.stringify(p2) : 'consistent'}`);
  return { report, moved: !t1.length && !t2.length };
}

/**
 * A state's two cases, onto the DR tier and off it. The move off starts from the tenant the move onto it left on the DR
 * tier when that move ended in a SUCCEEDED execution with every check held (a whole move, as an onboarding on the DR tier
 * leaves it, but for the record's history): an onboarding fewer. Otherwise (the fault's move recorded without a retry:
 * the states from Deploy blueprint on, whose later steps, the account's tag or the namespace, did not run) it onboards a
 * tenant of its own on the DR tier.
 */
async function runPair(on: Case, off: Case, faults: Map<string, string>, problems: string[]): Promise<string[]> {
  const first = await runCase(on, true, faults, problems);
  const second = first.moved
    ? await runCase(off, false, faults, problems)
    : await runCase({ ...off, tenant: `${off.tenant}x` }, true, faults, problems);
  return [...first.report, ...second.report];
}

it('a fault right after each state of a move onto and off a DR tier, then a retry (both blueprints)', async () => {
  const faults = new Map<string, string>();
  local.workflows.wrap = (name, handler) => async (event: any) => {
    const tenant = event?.request?.tenantId;
    const target = faults.get(tenant);
    if (target !== undefined && stateOf(name, event) === target) {
      await handler(event);
      faults.delete(tenant);
      throw Object.assign(new Error('fault after the step ran'), { name: 'Runtime.ExitError' });
    }
    return handler(event);
  };
  const pairs: Array<[Case, Case]> = [];
  let i = 0;
  const pair = (plain: string, dr: string, target: string, prefix: string): [Case, Case] => {
    const tenant = `${prefix}${++i}`;
    return [{ tenant, plain, dr, target, toDr: true }, { tenant, plain, dr, target, toDr: false }];
  };
  for (const target of STATES) pairs.push(pair('homeonly', 'enterprise', target, 'fxa'));
  // VPC tiers share the platform account's VPC quota (5 a region in moto): at most four tenants
  for (const target of ['Deploy blueprint', 'Move usage key']) pairs.push(pair('residency', 'professional', target, 'fxv'));
  const cases = pairs.flat();
  const report: string[] = [];
  const problems: string[] = [];
  const queue = [...pairs];
  await Promise.all([1, 2, 3].map(async () => {
    for (let p = queue.shift(); p; p = queue.shift()) report.push(...(await runPair(...p, faults, problems)));
  }));
  // The report (each case's outcome) is printed only when a case went wrong.
  expect(problems, report.join('\n')).toEqual([]);
  expect(report.filter((r) => r.startsWith('fx') && !r.includes('not reached'))).toHaveLength(cases.length - 2); // all but the two DR states off a DR tier
}, 1_500_000);
