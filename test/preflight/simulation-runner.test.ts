import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { describe, expect, it } from 'vitest';
import { fastSimulation, runStrictSimulation } from '../../lib/preflight/simulation-runner.js';

// lib/preflight/simulation-runner.ts must answer exactly as the library's runSimulation (Strict):
// one request of each path it reproduces or hands back, compared in full (JSON, key order
// included). The whole cross-tenant run was compared once the same way (TESSERA_IAM_SIMULATE_VERIFY=1,
// docs/performance-history.md); this keeps each path checked on every run.
const ACCOUNT = '111111111111';
const role = `arn:aws:iam::${ACCOUNT}:role/tessera-acme-workload`;
const bucket = 'arn:aws:s3:::tessera-acme-storage';
const identity = {
  name: 'Workload',
  policy: {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: `${bucket}/*`, Condition: { StringEquals: { 'aws:PrincipalTag/tessera:tenant-id': 'acme' } } },
      { Effect: 'Allow', Action: 'logs:CreateLogStream', Resource: `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/tessera/acme:*` },
      { Effect: 'Allow', Action: ['cloudwatch:PutMetricData', 'backup:ListTags'], Resource: '*', Condition: { StringEqualsIfExists: { 'cloudwatch:namespace': 'Tessera' } } },
      { Effect: 'Allow', Action: 'events:PutEvents', Resource: '*', Condition: { 'ForAllValues:StringEquals': { 'events:source': ['tessera.training'] }, Null: { 'events:source': 'false' } } },
    ],
  },
};
const scps = [{ orgIdentifier: 'ou-1', policies: [{ name: 'guardrail', policy: { Version: '2012-10-17', Statement: [
  { Effect: 'Allow', Action: '*', Resource: '*' },
  { Sid: 'Regions', Effect: 'Deny', NotAction: ['iam:*', 'sts:*'], Resource: '*', Condition: { StringNotEquals: { 'aws:RequestedRegion': ['us-east-1'] } } },
] } }] }];
const bucketPolicy = { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [bucket, `${bucket}/*`], Condition: { Bool: { 'aws:SecureTransport': 'false' } } }] };
const context = { 'aws:PrincipalArn': role, 'aws:PrincipalTag/tessera:tenant-id': 'acme', 'aws:RequestedRegion': 'us-east-1', 'aws:SecureTransport': 'true', 'aws:PrincipalAccount': ACCOUNT };

const simulation = (action: string, resource: string, extra: Partial<Simulation> = {}, ctx: Record<string, string | string[]> = context): Simulation => ({
  request: { principal: role, action, resource: { resource, accountId: ACCOUNT }, contextVariables: ctx },
  identityPolicies: [identity], serviceControlPolicies: scps, resourceControlPolicies: [], ...extra,
});

const CASES: Array<[string, Simulation]> = [
  ['one resource, allowed through a principal-tag condition', simulation('s3:GetObject', `${bucket}/a.txt`, { resourcePolicy: bucketPolicy })],
  ['one resource, the tag of another tenant', simulation('s3:PutObject', `${bucket}/a.txt`, { resourcePolicy: bucketPolicy }, { ...context, 'aws:PrincipalTag/tessera:tenant-id': 'acme-2' })],
  ['one resource, denied by the SCP (another Region)', simulation('s3:GetObject', `${bucket}/a.txt`, {}, { ...context, 'aws:RequestedRegion': 'eu-west-1' })],
  ['one resource, denied by the resource policy', simulation('s3:GetObject', `${bucket}/a.txt`, { resourcePolicy: bucketPolicy }, { ...context, 'aws:SecureTransport': 'false' })],
  ['a log stream (ARN with a wildcard-like variable part)', simulation('logs:CreateLogStream', `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/tessera/acme:log-stream:x`)],
  ['a wildcard-only action on *, an IfExists condition on an absent key', simulation('cloudwatch:PutMetricData', '*')],
  ['a set operator with an array context value', simulation('events:PutEvents', `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/default`, {}, { ...context, 'events:source': ['tessera.training'] })],
  ['a wildcard resource (one simulation per type and matching string)', simulation('logs:CreateLogStream', '*')],
  ['a wildcard resource over several resource types', simulation('backup:ListTags', `arn:aws:backup:us-east-1:${ACCOUNT}:*`)],
  ['an ARN two resource types share (runSimulation: multiple.resource.types)', simulation('backup:ListTags', `arn:aws:backup:us-east-1:${ACCOUNT}:backup-vault:v`)],
  ['an ARN of no resource type of the action (handed back: no.resource.types)', simulation('cloudwatch:PutMetricData', `arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:x`)],
  ['a wildcard-only action on a named resource (handed back: must.use.wildcard)', simulation('s3:ListAllMyBuckets', bucket)],
  ['an unknown action (handed back)', simulation('s3:FlyAway', `${bucket}/a.txt`)],
  ['an invalid policy (handed back)', simulation('s3:GetObject', `${bucket}/a.txt`, { identityPolicies: [{ name: 'Bad', policy: { Version: '2012-10-17', Statement: [{ Effect: 'Maybe', Action: 's3:GetObject', Resource: '*' }] } }] })],
];

describe('the simulation runner answers as runSimulation', () => {
  it.each(CASES)('%s', async (label, sim) => {
    const reference = await runSimulation(sim, { simulationMode: 'Strict' });
    const fast = await fastSimulation(sim);
    if (label.includes('(handed back')) expect(fast).toBeUndefined();
    else expect(JSON.stringify(fast)).toBe(JSON.stringify(reference));
    // Asked again, from the memoized facts, through the entry point the preflight uses: the same answer.
    expect(JSON.stringify(await runStrictSimulation(sim))).toBe(JSON.stringify(reference));
  });

  it('covers allowed, denied and error answers', async () => {
    const results = await Promise.all(CASES.map(([, sim]) => runStrictSimulation(sim)));
    const kinds = new Set(results.map((r) => (r.resultType === 'error' ? `error ${r.errors.message}` : r.overallResult)));
    console.log(`simulation-runner cases: ${[...kinds].join(', ')}`);
    for (const k of ['Allowed', 'ImplicitlyDenied', 'ExplicitlyDenied', 'error multiple.resource.types', 'error no.resource.types', 'error must.use.wildcard', 'error invalid.action', 'error policy.errors']) expect(kinds).toContain(k);
  });
});
