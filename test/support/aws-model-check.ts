import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

/**
 * A generic check of an SDK v3 command's `input` against AWS's own published API model: botocore's
 * `botocore/data/<service>/<version>/service-2.json.gz` (in the project's .venv), which keeps the constraints the
 * JS SDK strips (`required`, `min`/`max`, `pattern`, `enum`, list sizes). What test/support/strict-mock.ts's
 * `mockStrict(Client, service)` refuses a mocked call with.
 *
 * Wording: AWS's (Coral) ValidationException text, e.g. `1 validation error detected: Value 'x' at 'roleSessionName'
 * failed to satisfy constraint: Member must have length greater than or equal to 2` — the member path with each
 * member's first letter lower-cased, list elements as `name.N.member` (1-based), a null value as `Value null`.
 * Only the first violation is returned (AWS lists up to all of them; the count here is always 1).
 *
 * Not AWS's wording (no public source found, so the message says what it is): an unknown member (the SDK would drop it
 * silently; a test sending one has a typo or a model skew), a value of the wrong JS type, a union with other than one
 * member set, and the path under a map (`name.<key>`).
 *
 * Patterns are the model's Java regexes, matched in full (Java's `Matcher.matches()`, as AWS's services do: STS refuses
 * `a b` as a RoleSessionName though `[\w+=,.@-]*` would find an empty match in it), compiled with the `u` flag after
 * `\A`→`^` and `\z`→`$`; a pattern JavaScript cannot compile (`\p{Print}`, `\p{Alnum}`, …) is skipped and listed in
 * `skippedPatterns`.
 */

/** botocore's data directory in the project's .venv (`lib/python3.<minor>/site-packages`: whichever Python made the venv). */
const BOTOCORE_DATA = (() => {
  const lib = fileURLToPath(new URL('../../.venv/lib', import.meta.url));
  const python = existsSync(lib) ? readdirSync(lib).find((d) => /^python3\.\d+$/.test(d)) : undefined;
  return join(lib, python ?? 'python3', 'site-packages', 'botocore', 'data');
})();

interface ShapeRef {
  shape: string;
  idempotencyToken?: boolean;
}
interface Shape {
  type: 'structure' | 'list' | 'map' | 'string' | 'blob' | 'boolean' | 'timestamp' | 'integer' | 'long' | 'double' | 'float';
  required?: string[];
  members?: Record<string, ShapeRef>;
  member?: ShapeRef;
  key?: ShapeRef;
  value?: ShapeRef;
  min?: number;
  max?: number;
  pattern?: string;
  enum?: string[];
  document?: boolean;
  union?: boolean;
  streaming?: boolean;
  sensitive?: boolean;
}
interface Model {
  service: string;
  version: string;
  operations: Record<string, { input?: ShapeRef }>;
  shapes: Record<string, Shape>;
  /** Compiled patterns by shape name; null when JS cannot compile the pattern. */
  regexes: Map<string, RegExp | null>;
}

/**
 * The parsed models and the skipped patterns, kept on the process under a Symbol.for key: project `shared-reset`
 * evaluates this module again for every file of a worker (test/support/file-state.ts), and each file parsed the models
 * it used afresh (botocore's ec2 model is 4.6 MB of JSON, sagemaker's 2.8 MB: ~0.05-0.25 s a parse). A model is the
 * content of a file of the installed botocore, read-only here (its `regexes` a memo of its own patterns), so a file
 * of the worker sees what a process of its own would.
 */
const PROCESS_MODELS = Symbol.for('tessera.awsModelCheck.models');
const processState = process as unknown as Record<symbol, { models: Map<string, Model>; skippedPatterns: string[] } | undefined>;
const shared = (processState[PROCESS_MODELS] ??= { models: new Map<string, Model>(), skippedPatterns: [] });
const models = shared.models;

/** Patterns skipped because JavaScript cannot compile them: `service/Shape: pattern (reason)`, once each (per process). */
export const skippedPatterns: string[] = shared.skippedPatterns;

/**
 * The API model of `service` (botocore's directory name: `sts`, `events`, `sagemaker-runtime`, …), its newest version,
 * read and gunzipped once per process (not once per file of a shared worker: {@link PROCESS_MODELS}).
 * @throws Error when botocore has no such service
 */
export function loadModel(service: string): Model {
  let model = models.get(service);
  if (model) return model;
  const dir = join(BOTOCORE_DATA, service);
  let versions: string[];
  try {
    versions = readdirSync(dir).sort();
  } catch {
    throw new Error(`aws-model-check: botocore has no service '${service}' (no ${dir})`);
  }
  const version = versions[versions.length - 1]!;
  const json = JSON.parse(gunzipSync(readFileSync(join(dir, version, 'service-2.json.gz'))).toString('utf8')) as Pick<Model, 'operations' | 'shapes'>;
  model = { service, version, operations: json.operations, shapes: json.shapes, regexes: new Map() };
  models.set(service, model);
  return model;
}

function regexOf(model: Model, name: string, pattern: string): RegExp | null {
  let re = model.regexes.get(name);
  if (re !== undefined) return re;
  try {
    re = new RegExp(`^(?:${pattern.replace(/\\A/g, '^').replace(/\\z/g, '$')})$`, 'u');
  } catch (e) {
    re = null;
    skippedPatterns.push(`${model.service}/${name}: ${pattern} (${(e as Error).message})`);
  }
  model.regexes.set(name, re);
  return re;
}

/** AWS's rendering of a value in a validation message: `null`, else `'…'` (strings as is, lists as `[a, b]`). */
function shown(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'string') return `'${value}'`;
  if (value instanceof Date) return `'${value.toISOString()}'`;
  if (value instanceof Uint8Array) return `'java.nio.HeapByteBuffer[pos=0 lim=${value.byteLength} cap=${value.byteLength}]'`;
  if (Array.isArray(value)) return `'[${value.map((v) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v))).join(', ')}]'`;
  if (typeof value === 'object') return `'${JSON.stringify(value)}'`;
  return `'${String(value)}'`;
}

const fail = (value: unknown, path: string, constraint: string) => `Value ${shown(value)} at '${path}' failed to satisfy constraint: ${constraint}`;
/** `RoleSessionName` → `roleSessionName` (AWS's member path). */
const lowerFirst = (name: string) => name.charAt(0).toLowerCase() + name.slice(1);
const join2 = (path: string, member: string) => (path ? `${path}.${lowerFirst(member)}` : lowerFirst(member));

/** The first constraint `value` breaks at `path` against shape `name`, without the count prefix; undefined when none. */
function violation(model: Model, name: string, value: unknown, path: string): string | undefined {
  const shape = model.shapes[name];
  if (!shape) return `Shape ${name} missing from ${model.service} ${model.version}`;
  if (shape.document) return undefined; // any JSON
  switch (shape.type) {
    case 'structure': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(value, path, `Member must be a structure (${name})`);
      const members = shape.members ?? {};
      const input = value as Record<string, unknown>;
      for (const key of Object.keys(input)) {
        if (input[key] !== undefined && !(key in members)) return `Unknown member '${key}' at '${path || '<input>'}': ${name} has ${Object.keys(members).join(', ') || 'no members'} (${model.service} ${model.version})`;
      }
      for (const req of shape.required ?? []) {
        if ((input[req] === undefined || input[req] === null) && !members[req]?.idempotencyToken) return fail(null, join2(path, req), 'Member must not be null');
      }
      if (shape.union) {
        const set = Object.keys(members).filter((k) => input[k] !== undefined && input[k] !== null);
        if (set.length !== 1) return fail(value, path, `Union ${name} must have exactly one member set, not ${set.length}`);
      }
      for (const [member, ref] of Object.entries(members)) {
        const v = input[member];
        if (v === undefined || v === null) continue;
        const found = violation(model, ref.shape, v, join2(path, member));
        if (found) return found;
      }
      return undefined;
    }
    case 'list': {
      if (!Array.isArray(value)) return fail(value, path, `Member must be a list (${name})`);
      if (shape.min !== undefined && value.length < shape.min) return fail(value, path, `Member must have length greater than or equal to ${shape.min}`);
      if (shape.max !== undefined && value.length > shape.max) return fail(value, path, `Member must have length less than or equal to ${shape.max}`);
      for (let i = 0; i < value.length; i++) {
        const found = violation(model, shape.member!.shape, value[i], `${path}.${i + 1}.member`);
        if (found) return found;
      }
      return undefined;
    }
    case 'map': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(value, path, `Member must be a map (${name})`);
      const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
      if (shape.min !== undefined && entries.length < shape.min) return fail(value, path, `Member must have length greater than or equal to ${shape.min}`);
      if (shape.max !== undefined && entries.length > shape.max) return fail(value, path, `Member must have length less than or equal to ${shape.max}`);
      for (const [k, v] of entries) {
        const keyFound = violation(model, shape.key!.shape, k, path);
        if (keyFound) return fail(value, path, `Map keys must satisfy constraint: [${keyFound.replace(/^.*failed to satisfy constraint: /, '')}]`);
        const found = violation(model, shape.value!.shape, v, `${path}.${k}`);
        if (found) return found;
      }
      return undefined;
    }
    case 'string': {
      if (typeof value !== 'string') return fail(value, path, `Member must be a string (${name})`);
      // Length in characters as Java counts them (UTF-16 code units), as JS's `length` does.
      if (shape.min !== undefined && value.length < shape.min) return fail(value, path, `Member must have length greater than or equal to ${shape.min}`);
      if (shape.max !== undefined && value.length > shape.max) return fail(value, path, `Member must have length less than or equal to ${shape.max}`);
      if (shape.enum && !shape.enum.includes(value)) return fail(value, path, `Member must satisfy enum value set: [${shape.enum.join(', ')}]`);
      if (shape.pattern !== undefined) {
        const re = regexOf(model, name, shape.pattern);
        if (re && !re.test(value)) return fail(value, path, `Member must satisfy regular expression pattern: ${shape.pattern}`);
      }
      return undefined;
    }
    case 'integer':
    case 'long':
    case 'double':
    case 'float': {
      const integral = shape.type === 'integer' || shape.type === 'long';
      if (typeof value !== 'number' || (integral && !Number.isInteger(value))) return fail(value, path, `Member must be ${integral ? 'an integer' : 'a number'} (${shape.type} ${name})`);
      if (shape.min !== undefined && value < shape.min) return fail(value, path, `Member must have value greater than or equal to ${shape.min}`);
      if (shape.max !== undefined && value > shape.max) return fail(value, path, `Member must have value less than or equal to ${shape.max}`);
      return undefined;
    }
    case 'boolean':
      return typeof value === 'boolean' ? undefined : fail(value, path, `Member must be a boolean (${name})`);
    case 'timestamp': {
      // The SDK takes a Date, epoch seconds or a date string.
      const ok = value instanceof Date ? !Number.isNaN(value.getTime()) : typeof value === 'number' ? Number.isFinite(value) : typeof value === 'string' && !Number.isNaN(Date.parse(value));
      return ok ? undefined : fail(value, path, `Member must be a timestamp (${name})`);
    }
    case 'blob': {
      let bytes: number | undefined;
      if (typeof value === 'string') bytes = Buffer.byteLength(value, 'utf8');
      else if (value instanceof Uint8Array) bytes = value.byteLength;
      else if (shape.streaming || (typeof value === 'object' && value !== null)) return undefined; // a stream or Blob: size unknown here
      else return fail(value, path, `Member must be a blob (${name})`);
      if (shape.min !== undefined && bytes < shape.min) return fail(value, path, `Member must have length greater than or equal to ${shape.min}`);
      if (shape.max !== undefined && bytes > shape.max) return fail(value, path, `Member must have length less than or equal to ${shape.max}`);
      return undefined;
    }
    default:
      return undefined;
  }
}

/**
 * The first constraint of AWS's API model that `input` breaks for `operation` of `service`, worded as AWS's
 * ValidationException names it (`1 validation error detected: Value … at '<member path>' failed to satisfy
 * constraint: …`), or undefined when the input satisfies the model.
 * @param service botocore's directory name (`sts`, `events`, `sagemaker-runtime`, `service-quotas`, `sqs`, …)
 * @param operation the operation, the SDK command's name without `Command` (`AssumeRole`, `PutEvents`)
 * @param input the command's `input` (member names as the SDK and the model spell them)
 * @throws Error when botocore has no such service
 */
export function modelViolation(service: string, operation: string, input: unknown): string | undefined {
  const model = loadModel(service);
  const op = model.operations[operation];
  if (!op) return `1 validation error detected: operation ${operation} is not in ${service} ${model.version}'s model`;
  if (!op.input) return input && typeof input === 'object' && Object.values(input).some((v) => v !== undefined) ? `1 validation error detected: ${operation} takes no input` : undefined;
  const found = violation(model, op.input.shape, input ?? {}, '');
  return found === undefined ? undefined : `1 validation error detected: ${found}`;
}

/** The operation of an SDK v3 command: its class name without `Command` (`AssumeRoleCommand` → `AssumeRole`). */
export function operationOf(command: unknown): string {
  return (command as object).constructor.name.replace(/Command$/, '');
}
