import { CloudFormationValidatePlugin, Stage, type IPolicyValidationContext, type PolicyValidationPluginReport, type PolicyValidationStack, type PolicyViolation } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * aws-cdk-lib's CloudFormation validation (`@aws-cdk/core:validateAgainstDefaultRules` in cdk.json:
 * `@aws/cloudformation-validate`, WebAssembly) with its result kept on disk per template, for the
 * test apps of test/support/synth.ts.
 *
 * Why: the validator costs ~2 s of CPU to start per process and ~0.3 s per template the first time
 * (measured here: a 10-template app, 2.2 s engine + 3.1 s first pass, 0.8 s a second pass), and
 * the infra tests synthesize ~30 configs of one app whose stacks are mostly the same templates; a
 * warm run synthesized again templates validated by the run before.
 *
 * What it computes is what aws-cdk-lib's own plugin computes: a template not in the cache is
 * validated by aws-cdk-lib's plugin itself (its process-wide instance, the one an app without this
 * plugin uses), one template at a time, and the reports are merged exactly as that plugin merges
 * the diagnostics of several templates (one violation per rule, severity and description, its
 * resources in template order). aws-cdk-lib's plugin is a pure function of each template's bytes,
 * file name, account and region and of the validator (the engine's rules are chosen from the
 * resource types of the templates; aws-cdk-lib itself reuses an engine for any subset of them).
 * So the cache key ({@link templateKey}) is SHA-256 over: the template's bytes, its file name, the
 * stack's account and region, and {@link validatorKey} (the `@aws/cloudformation-validate` version
 * and WebAssembly bytes, aws-cdk-lib's version and its plugin's code, which holds the options and
 * ignored rules, and every built-in rule file). A cached report has the template's path and the
 * stack's construct path taken out and put back for the stack at hand.
 *
 * `TESSERA_TEST_CACHE=off`: nothing read or written (every template validated).
 * Files: `.tessera/test-synth-cache/cfn-validate/<key>.json`; one not read for a day is removed.
 */
export class CachedCloudFormationValidatePlugin extends CloudFormationValidatePlugin {
  override validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const off = process.env.TESSERA_TEST_CACHE === 'off';
    const entries = inStageOrder(context).map((stack) => {
      const key = templateKey(readFileSync(stack.templatePath), stack);
      return { stack, key, violations: off ? undefined : readCached(key, stack) };
    });
    const missing = entries.filter((e) => e.violations === undefined);
    if (missing.length > 0) {
      const inner = CloudFormationValidatePlugin._singletonInstance() as unknown as InnerPlugin;
      // One engine for all the templates to validate, as aws-cdk-lib's plugin makes for a whole
      // app: the rules it loads are those of their resource types (a superset of each one's).
      inner.initializeEngine(resourceTypes(missing.map((e) => e.stack.templatePath)));
      for (const entry of missing) {
        const { stack } = entry;
        const report = inner.validate({ ...context, templatePaths: [stack.templatePath], stackTemplates: [stack], accountId: stack.accountId, region: stack.region });
        entry.violations = report.violations;
        if (!off) writeCached(entry.key, stack, report.violations);
      }
    }
    // As aws-cdk-lib's plugin merges the diagnostics of several templates.
    const violations: PolicyViolation[] = [];
    for (const entry of entries) {
      for (const v of entry.violations!) {
        const existing = violations.find((x) => x.ruleName === v.ruleName && x.severity === v.severity && x.description === v.description);
        if (existing) (existing.violatingResources as unknown[]).push(...v.violatingResources);
        else violations.push({ ...v, violatingResources: [...v.violatingResources] });
      }
    }
    return { success: violations.every((v) => v.severity !== 'error' && v.severity !== 'fatal'), violations };
  }
}

/**
 * The stacks in the order aws-cdk-lib's plugin receives them when it runs for every stage: the
 * stacks of each stage's own assembly, stages in post-order (a nested stage's before its parent's),
 * where a plugin registered on the App alone receives them parent first (`stacksRecursively`).
 * The order of a violation's resources follows it.
 */
function inStageOrder(context: IPolicyValidationContext): PolicyValidationStack[] {
  const rank = new Map<string, number>();
  const visit = (c: IConstruct) => {
    for (const child of c.node.children) visit(child);
    if (Stage.isStage(c)) rank.set(resolve(c.outdir), rank.size);
  };
  visit(context.appConstruct);
  const rankOf = (stack: PolicyValidationStack) => rank.get(dirname(resolve(stack.templatePath))) ?? rank.size;
  return [...context.stackTemplates].sort((a, b) => rankOf(a) - rankOf(b)); // stable: an assembly's own order kept
}

/** The private parts of aws-cdk-lib's plugin (2.276) this module calls. */
interface InnerPlugin {
  initializeEngine(resourceTypes: Set<string>): unknown;
  validate(context: IPolicyValidationContext): PolicyValidationPluginReport;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CACHE_DIR = join(ROOT, '.tessera', 'test-synth-cache', 'cfn-validate');
/** Entries not read for this long are removed (when a new one is written). */
const KEEP_MS = 24 * 3_600_000;
/** Stand-ins for the paths a report names, which differ from one synth to the next. */
const TEMPLATE = '<template>';
const STACK = '<stack>';

let validator: string | undefined;
let pruned = false;

/**
 * SHA-256 over what determines aws-cdk-lib's validation besides the template: the
 * `@aws/cloudformation-validate` package (version, JavaScript and WebAssembly), aws-cdk-lib's
 * version and its plugin module (options, ignored rule ids, report shape), its built-in rule files.
 */
export function validatorKey(): string {
  if (validator) return validator;
  // aws-cdk-lib's `exports` name neither its package.json nor the plugin module: found from its entry point.
  const cdkDir = dirname(createRequire(import.meta.url).resolve('aws-cdk-lib'));
  const pluginFile = join(cdkDir, 'core', 'lib', 'validation', 'cloudformation-validate-plugin.js');
  const rulesDir = join(dirname(pluginFile), 'rules');
  const validateDir = dirname(createRequire(pluginFile).resolve('@aws/cloudformation-validate'));
  const hash = createHash('sha256');
  const add = (file: string) => hash.update(`${relative(cdkDir, file)}\0`).update(readFileSync(file)).update('\0');
  add(join(cdkDir, 'package.json'));
  add(pluginFile);
  for (const name of readdirSync(rulesDir).sort()) add(join(rulesDir, name));
  for (const name of readdirSync(validateDir).sort()) if (/\.(js|wasm|json)$/.test(name)) add(join(validateDir, name));
  validator = hash.digest('hex');
  return validator;
}

/** The cache key of one stack's validation: its template's bytes and file name, account, region, {@link validatorKey}. */
export function templateKey(template: Buffer, stack: { templatePath: string; accountId?: string; region?: string }): string {
  return createHash('sha256').update(validatorKey()).update('\0').update(basename(stack.templatePath)).update('\0')
    .update(stack.accountId ?? '').update('\0').update(stack.region ?? '').update('\0').update(template).digest('hex').slice(0, 40);
}

/** The resource types of the templates, as aws-cdk-lib's plugin reads them. */
function resourceTypes(templatePaths: string[]): Set<string> {
  const types = new Set<string>();
  for (const path of templatePaths) {
    try {
      const parsed = JSON.parse(readFileSync(path, 'utf8')) as { Resources?: Record<string, { Type?: unknown }> };
      for (const resource of Object.values(parsed?.Resources ?? {})) if (resource && typeof resource.Type === 'string') types.add(resource.Type);
    } catch { /* as aws-cdk-lib: a template it cannot parse adds no type */ }
  }
  return types;
}

function readCached(key: string, stack: { templatePath: string; stackConstructPath: string }): PolicyViolation[] | undefined {
  const file = join(CACHE_DIR, `${key}.json`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const now = new Date();
    utimesSync(file, now, now); // read: kept
  } catch { /* removed meanwhile */ }
  let cached: PolicyViolation[];
  try {
    cached = JSON.parse(text) as PolicyViolation[];
  } catch {
    return undefined; // not a report (a disk that filled up): validated again and written anew
  }
  return cached.map((v) => ({
    ...v,
    violatingResources: v.violatingResources.map((r) => ({
      ...r,
      ...(r.templatePath === TEMPLATE ? { templatePath: stack.templatePath } : {}),
      ...(r.constructPath === STACK ? { constructPath: stack.stackConstructPath } : {}),
    })),
  }));
}

function writeCached(key: string, stack: { templatePath: string; stackConstructPath: string }, violations: readonly PolicyViolation[]): void {
  const generic = violations.map((v) => ({
    ...v,
    violatingResources: v.violatingResources.map((r) => ({
      ...r,
      ...(r.templatePath === stack.templatePath ? { templatePath: TEMPLATE } : {}),
      ...(r.constructPath === stack.stackConstructPath ? { constructPath: STACK } : {}),
    })),
  }));
  // A report that names the paths anywhere else (a message quoting the file) is not kept: it would not be the same for another synth.
  const text = JSON.stringify(generic);
  if (text.includes(stack.templatePath) || text.includes(dirname(stack.templatePath))) return;
  mkdirSync(CACHE_DIR, { recursive: true });
  const file = join(CACHE_DIR, `${key}.json`);
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, text);
  renameSync(partial, file); // atomic: readers see the whole file or none
  if (!pruned) {
    pruned = true;
    for (const name of readdirSync(CACHE_DIR)) {
      const path = join(CACHE_DIR, name);
      try {
        if (Date.now() - statSync(path).mtimeMs > KEEP_MS) rmSync(path, { force: true });
      } catch { /* removed by another process */ }
    }
  }
}
