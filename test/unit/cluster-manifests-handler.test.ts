/**
 * The dedicated cluster's manifest custom resource handler (lambdas/cluster-manifests/apply_manifests.py), run by Python against a
 * real HTTPS server on 127.0.0.1 whose certificate a CA made in the test signed (test/support/apply-manifests-driver.py): it
 * server-side applies each object to its kind's URL, deletes what an update drops, deletes in reverse order (404 is success), and
 * every failure reaches CloudFormation as FAILED naming the object and the API's status and message. `cfnresponse` and the STS
 * presigning are stand-ins (no network); the token's own format is checked offline with botocore.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { pythonScriptCommand } from '../support/python-zygote.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DRIVER = join(ROOT, 'test', 'support', 'apply-manifests-driver.py');
const HANDLER_DIR = join(ROOT, 'lambdas', 'cluster-manifests');

interface Seen { method: string; path: string; query: string; contentType: string; authorization: string; body: any }
interface Outcome { requests: Seen[]; responses: Array<{ status: string; pid: string; reason: string | null; bodyBytes: number }>; logs: string; seconds: number }
type Answer = [number, unknown] | [number, unknown, number];
interface Scenario { event: Record<string, unknown>; responses?: Record<string, Answer | Answer[]>; otherCa?: boolean; remaining?: number }

async function driver(arg: string): Promise<string> {
  const { stdout } = await promisify(execFile)(...pythonScriptCommand(join(ROOT, '.venv', 'bin', 'python'), DRIVER, [HANDLER_DIR, arg]), { timeout: 60_000 });
  return stdout;
}
const run = async (scenarios: Scenario[]): Promise<Outcome[]> => JSON.parse(await driver(JSON.stringify(scenarios))) as Outcome[];

const sa = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'cluster-autoscaler', namespace: 'kube-system' } };
const clusterRole = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'cluster-autoscaler' }, rules: [] };
const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'cluster-autoscaler', namespace: 'kube-system' }, spec: { replicas: 1 } };
const pdb = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'cluster-autoscaler', namespace: 'kube-system' }, spec: { maxUnavailable: 1 } };
const event = (requestType: string, manifests: unknown[], old?: unknown[], physicalId?: string) => ({
  RequestType: requestType, ResourceProperties: { Manifests: JSON.stringify(manifests) },
  ...(old ? { OldResourceProperties: { Manifests: JSON.stringify(old) } } : {}),
  ...(physicalId ? { PhysicalResourceId: physicalId } : {}),
});
const DEPLOYMENT_URL = '/apis/apps/v1/namespaces/kube-system/deployments/cluster-autoscaler';
const CLUSTER_ROLE_URL = '/apis/rbac.authorization.k8s.io/v1/clusterroles/cluster-autoscaler';
const SA_URL = '/api/v1/namespaces/kube-system/serviceaccounts/cluster-autoscaler';
/** The Lambda's remaining time (ms) with which a refused request is not tried again: 10 s kept to answer, 20 s for one request. */
const NO_TIME_TO_RETRY = 30_000;
const pick = (o: Outcome) => o.responses.map(({ status, pid, reason }) => ({ status, pid, reason }));

describe('the cluster manifests handler against a Kubernetes API over HTTPS', () => {
  it('applies each object server-side at its kind\'s URL, in order, with the cluster token, trusting only the cluster\'s CA', async () => {
    const [created] = await run([{ event: event('Create', [sa, clusterRole, deployment, pdb]) }]);
    expect(created.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'PATCH /api/v1/namespaces/kube-system/serviceaccounts/cluster-autoscaler',
      'PATCH /apis/rbac.authorization.k8s.io/v1/clusterroles/cluster-autoscaler',
      `PATCH ${DEPLOYMENT_URL}`,
      'PATCH /apis/policy/v1/namespaces/kube-system/poddisruptionbudgets/cluster-autoscaler',
    ]);
    for (const r of created.requests) {
      expect(r.query).toBe('fieldManager=tessera&force=true');
      expect(r.contentType).toBe('application/apply-patch+yaml');
      expect(r.authorization).toBe('Bearer k8s-aws-v1.stub-tessera-acme-eu-west-1');
    }
    expect(created.requests[2].body).toEqual(deployment);
    expect(pick(created)).toEqual([{ status: 'SUCCESS', pid: 'manifests', reason: null }]);
  });

  it('on update applies the new objects, then deletes the ones the old properties had and the new do not', async () => {
    const [updated] = await run([{ event: event('Update', [sa, deployment], [sa, clusterRole, deployment, pdb], 'manifests') }]);
    expect(updated.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'PATCH /api/v1/namespaces/kube-system/serviceaccounts/cluster-autoscaler',
      `PATCH ${DEPLOYMENT_URL}`,
      'DELETE /apis/policy/v1/namespaces/kube-system/poddisruptionbudgets/cluster-autoscaler',
      'DELETE /apis/rbac.authorization.k8s.io/v1/clusterroles/cluster-autoscaler',
    ]);
    expect(pick(updated)).toEqual([{ status: 'SUCCESS', pid: 'manifests', reason: null }]);
  });

  it('on delete deletes in reverse order, an object already gone (404) counting as deleted', async () => {
    const [deleted] = await run([{
      event: event('Delete', [sa, clusterRole, deployment], undefined, 'manifests'),
      responses: { [`DELETE ${DEPLOYMENT_URL}`]: [404, { kind: 'Status', message: 'deployments.apps "cluster-autoscaler" not found', code: 404 }] },
    }]);
    expect(deleted.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `DELETE ${DEPLOYMENT_URL}`,
      'DELETE /apis/rbac.authorization.k8s.io/v1/clusterroles/cluster-autoscaler',
      'DELETE /api/v1/namespaces/kube-system/serviceaccounts/cluster-autoscaler',
    ]);
    expect(pick(deleted)).toEqual([{ status: 'SUCCESS', pid: 'manifests', reason: null }]);
  });

  it('reports FAILED naming the object and the API\'s status and message (403 once no time is left to try again, 422 at once), ', async () => {
    const forbidden = 'clusterroles.rbac.authorization.k8s.io "cluster-autoscaler" is forbidden: User "arn:aws:sts::1:assumed-role/x" cannot patch resource';
    const invalid = 'Deployment.apps "cluster-autoscaler" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0';
    const [denied, refused, updateFailed] = await run([
      { event: event('Create', [sa, clusterRole, deployment]), responses: { [`PATCH ${CLUSTER_ROLE_URL}`]: [403, { kind: 'Status', message: forbidden, code: 403 }] }, remaining: NO_TIME_TO_RETRY },
      { event: event('Update', [deployment], [deployment], 'manifests'), responses: { [`PATCH ${DEPLOYMENT_URL}`]: [422, { kind: 'Status', message: invalid, code: 422 }] } },
      { event: event('Delete', [deployment], undefined, 'manifests'), responses: { [`DELETE ${DEPLOYMENT_URL}`]: [403, { kind: 'Status', message: 'forbidden', code: 403 }] }, remaining: NO_TIME_TO_RETRY },
    ]);
    // The create stops at the refused object; its physical id tells the rollback's delete that its deletes are best effort.
    expect(denied.requests.map((r) => r.method)).toEqual(['PATCH', 'PATCH']);
    expect(pick(denied)).toEqual([{ status: 'FAILED', pid: 'failed', reason: `PATCH ${CLUSTER_ROLE_URL}: HTTP 403: ${forbidden}` }]);
    expect(pick(refused)).toEqual([{ status: 'FAILED', pid: 'manifests', reason: `PATCH ${DEPLOYMENT_URL}: HTTP 422: ${invalid}` }]);
    expect(pick(updateFailed)).toEqual([{ status: 'FAILED', pid: 'manifests', reason: `DELETE ${DEPLOYMENT_URL}: HTTP 403: forbidden` }]);
    // AND the failure is logged, the token never
    expect(denied.logs).toContain(forbidden);
    for (const o of [denied, refused, updateFailed]) expect(o.logs).not.toMatch(/k8s-aws-v1|Bearer/);
  });

  it('on the rollback of a failed create deletes what the create may have applied, and answers SUCCESS even when it cannot (the rollback never sticks)', async () => {
    const [rolledBack, unreachable] = await run([
      { event: event('Delete', [sa, clusterRole, deployment], undefined, 'failed'), responses: { [`DELETE ${CLUSTER_ROLE_URL}`]: [403, { kind: 'Status', message: 'forbidden', code: 403 }] }, remaining: NO_TIME_TO_RETRY },
      { event: { ...event('Delete', [sa], undefined, 'failed'), ResourceProperties: { Manifests: JSON.stringify([sa]), Endpoint: 'https://127.0.0.1:1' } }, remaining: NO_TIME_TO_RETRY },
    ]);
    // The deployment first (404 or not, it is gone after), then the refused ClusterRole ends the attempt
    expect(rolledBack.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`DELETE ${DEPLOYMENT_URL}`, `DELETE ${CLUSTER_ROLE_URL}`]);
    expect(pick(rolledBack)).toEqual([{ status: 'SUCCESS', pid: 'failed', reason: null }]);
    expect(rolledBack.logs).toContain('HTTP 403: forbidden');
    expect(pick(unreachable)).toEqual([{ status: 'SUCCESS', pid: 'failed', reason: null }]);
  });

  it('tries a request again while the API refuses it for now (401 and 403 until a new access entry takes effect, 409, 429, 5xx), then goes on', async () => {
    const status = (code: number, message: string) => [code, { kind: 'Status', message, code }] as Answer;
    const [eventual] = await run([{
      event: event('Create', [sa, deployment]),
      responses: {
        [`PATCH ${SA_URL}`]: [status(401, 'Unauthorized'), status(403, 'serviceaccounts "cluster-autoscaler" is forbidden'), [200, {}]],
        [`PATCH ${DEPLOYMENT_URL}`]: [status(500, 'etcdserver: request timed out'), status(429, 'too many requests'), status(409, 'conflict'), [200, {}]],
      },
    }]);
    expect(eventual.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      ...Array(3).fill(`PATCH ${SA_URL}`), ...Array(4).fill(`PATCH ${DEPLOYMENT_URL}`),
    ]);
    expect(pick(eventual)).toEqual([{ status: 'SUCCESS', pid: 'manifests', reason: null }]);
  });

  it('answers FAILED before the Lambda times out when the API answers too slowly, whatever each read takes', async () => {
    // A byte every 0.25 s for 6 s: no single read waits long, the whole answer takes longer than the time left (12 s - 10 s kept).
    const [slow] = await run([{ event: event('Create', [sa]), responses: { [`PATCH ${SA_URL}`]: [200, {}, 6] }, remaining: 12_000 }]);
    expect(pick(slow)).toEqual([{ status: 'FAILED', pid: 'failed', reason: `PATCH ${SA_URL}: out of time` }]);
    expect(slow.seconds).toBeLessThan(4);
  });

  it('keeps its answer to CloudFormation within 4,096 bytes whatever the API says (long, non-ASCII, control characters), and names an HTML or non-JSON refusal by its status', async () => {
    const hostile = `admission webhook "x" denied the request: ${'\u{1F4A5}"\\\u0001é'.repeat(1500)}`;
    const [huge, html, text] = await run([
      { event: event('Create', [sa]), responses: { [`PATCH ${SA_URL}`]: [422, { kind: 'Status', message: hostile, code: 422 }] } },
      { event: event('Create', [sa]), responses: { [`PATCH ${SA_URL}`]: [403, '<html><body><h1>403 Forbidden</h1></body></html>'] }, remaining: NO_TIME_TO_RETRY },
      { event: event('Create', [sa]), responses: { [`PATCH ${SA_URL}`]: [400, 'not json {'] } },
    ]);
    expect(huge.responses[0].status).toBe('FAILED');
    expect(huge.responses[0].reason).toMatch(new RegExp(`^PATCH ${SA_URL}: HTTP 422: admission webhook "x" denied the request: \\?"\\\\\\?\\?`));
    expect(huge.responses[0].bodyBytes).toBeLessThanOrEqual(4096);
    expect(pick(html)).toEqual([{ status: 'FAILED', pid: 'failed', reason: `PATCH ${SA_URL}: HTTP 403: Answer` }]);
    expect(pick(text)).toEqual([{ status: 'FAILED', pid: 'failed', reason: `PATCH ${SA_URL}: HTTP 400: Answer` }]);
  });

  it('on delete counts a cluster whose endpoint no longer resolves as deleted (its objects went with it), so the stack delete goes on', async () => {
    const gone = { ...event('Delete', [sa, deployment], undefined, 'manifests'), ResourceProperties: { Manifests: JSON.stringify([sa, deployment]), Endpoint: 'https://tessera-gone.invalid' } };
    const [deleted] = await run([{ event: gone, remaining: NO_TIME_TO_RETRY }]);
    expect(pick(deleted)).toEqual([{ status: 'SUCCESS', pid: 'manifests', reason: null }]);
    // AND an apply to that endpoint still fails
    const [created] = await run([{ event: { ...gone, RequestType: 'Create' }, remaining: NO_TIME_TO_RETRY }]);
    expect(created.responses[0]).toMatchObject({ status: 'FAILED', pid: 'failed' });
  });

  it('on update deletes an object the update renamed, after applying the new one', async () => {
    const renamed = { ...deployment, metadata: { ...deployment.metadata, name: 'cluster-autoscaler-2' } };
    const [updated] = await run([{ event: event('Update', [renamed], [deployment], 'manifests') }]);
    expect(updated.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`PATCH ${DEPLOYMENT_URL}-2`, `DELETE ${DEPLOYMENT_URL}`]);
    expect(pick(updated)).toEqual([{ status: 'SUCCESS', pid: 'manifests', reason: null }]);
  });

  it('refuses a kind outside its table (or a kind with another apiVersion) before sending anything', async () => {
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'kube-system' } };
    const oldDeployment = { ...deployment, apiVersion: 'extensions/v1beta1' };
    const [secretRefused, versionRefused] = await run([{ event: event('Create', [sa, secret]) }, { event: event('Create', [oldDeployment]) }]);
    expect(secretRefused.requests).toEqual([]);
    expect(secretRefused.responses).toHaveLength(1);
    expect(secretRefused.responses[0]).toMatchObject({ status: 'FAILED', pid: 'failed' });
    expect(secretRefused.responses[0].reason).toMatch(/^v1 Secret is not a kind applied here \(ServiceAccount, ClusterRole, ClusterRoleBinding, Role, RoleBinding, Deployment, PodDisruptionBudget\)$/);
    expect(versionRefused.requests).toEqual([]);
    expect(versionRefused.responses[0].reason).toMatch(/^extensions\/v1beta1 Deployment is not a kind applied here/);
  });

  it('reports FAILED, naming the object, when the API cannot be reached or its certificate is not from the cluster\'s CA', async () => {
    const [unreachable] = await run([{ event: { ...event('Create', [sa]), ResourceProperties: { Manifests: JSON.stringify([sa]), Endpoint: 'https://127.0.0.1:1' } }, remaining: NO_TIME_TO_RETRY }]);
    expect(unreachable.responses[0].status).toBe('FAILED');
    expect(unreachable.responses[0].reason).toMatch(new RegExp(`^PATCH ${SA_URL}: `));
    const [untrusted] = await run([{ event: event('Create', [sa]), otherCa: true, remaining: NO_TIME_TO_RETRY }]);
    expect(untrusted.requests).toEqual([]);
    expect(untrusted.responses[0].status).toBe('FAILED');
    expect(untrusted.responses[0].reason).toMatch(new RegExp(`^PATCH ${SA_URL}: .*CERTIFICATE_VERIFY_FAILED`));
  });

  it('makes the token as `aws eks get-token` does: k8s-aws-v1. and the unpadded base64url of a 60 s presigned GetCallerIdentity with x-k8s-aws-id signed', async () => {
    const token = JSON.parse(await driver('token')) as string;
    expect(token).toMatch(/^k8s-aws-v1\.[A-Za-z0-9_-]+$/);
    const url = new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString());
    expect(url.host).toBe('sts.eu-west-1.amazonaws.com');
    expect(url.searchParams.get('Action')).toBe('GetCallerIdentity');
    expect(url.searchParams.get('Version')).toBe('2011-06-15');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('60');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^AKIDEXAMPLE\/\d{8}\/eu-west-1\/sts\/aws4_request$/);
  });
});
