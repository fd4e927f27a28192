import { CloudFormationValidatePlugin, Stage, type IPolicyValidationContext, type PolicyValidationPluginReport, type PolicyValidationStack, type PolicyViolation } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * aws-cdk-lib's CloudFormation validation (`@aws/cloudformation-validate`, WebAssembly: the plugin
 * every App runs unless `CDK_VALIDATION=false`; `@aws-cdk/core:validateAgainstDefaultRules` in
 * cdk.json makes its errors fail synth) with each template's result kept on disk.
 *
 * Why: the validator costs ~1.7-2.6 s of a whole-app synth here (its engine's start, then ~0.1-0.3 s
 * per template), and most synths (a second `cdk synth`, `cdk deploy` after `cdk diff`, the CLI
 * synths of the tests) validate templates that were validated before, byte for byte. A template
 * that changed is validated again; the engine starts only when one must be.
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
 * stack's construct path taken out and put back for the stack at hand. Registered on an App, it
 * replaces aws-cdk-lib's default plugin (aws-cdk-lib adds its own only when no plugin of this class
 * is registered), and aws-cdk-lib treats its report as its own (same plugin name).
 *
 * It calls two private members of aws-cdk-lib's plugin (`_singletonInstance`, `initializeEngine`;
 * aws-cdk-lib 2.276); with an aws-cdk-lib that lacks them it validates as aws-cdk-lib's plugin does,
 * without the cache. Files: `<cacheDir>/<key>.json`, written atomically; one not read for a day is
 * removed. A file that is not such a report is ignored (validated again, written anew); a cache that
 * cannot be written is skipped (the synth goes on).
 */
export class CachedCloudFormationValidatePlugin extends CloudFormationValidatePlugin {
  private readonly cacheDir: string;
  private readonly off: boolean;

  /**
   * @param options.cacheDir where the reports are kept (created on the first write)
   * @param options.enabled false: every template validated, nothing read or written
   *   @default true
   */
  constructor(options: { cacheDir: string; enabled?: boolean }) {
    super();
    this.cacheDir = options.cacheDir;
    this.off = options.enabled === false;
  }

  override validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const inner = ((CloudFormationValidatePlugin as unknown as { _singletonInstance?: () => unknown })._singletonInstance?.() ?? {}) as Partial<InnerPlugin>;
    if (typeof inner.initializeEngine !== 'function' || typeof inner.validate !== 'function') return super.validate(context);
    const off = this.off;
    const entries = inStageOrder(context).map((stack) => {
      const key = templateKey(readFileSync(stack.templatePath), stack);
      return { stack, key, violations: off ? undefined : readCached(this.cacheDir, key, stack) };
    });
    const missing = entries.filter((e) => e.violations === undefined);
    if (missing.length > 0) {
      // One engine for all the templates to validate, as aws-cdk-lib's plugin makes for a whole
      // app: the rules it loads are those of their resource types (a superset of each one's).
      inner.initializeEngine(resourceTypes(missing.map((e) => e.stack.templatePath)));
      for (const entry of missing) {
        const { stack } = entry;
        const report = inner.validate({ ...context, templatePaths: [stack.templatePath], stackTemplates: [stack], accountId: stack.accountId, region: stack.region });
        entry.violations = report.violations;
        if (!off) writeCached(this.cacheDir, entry.key, stack, report.violations);
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

/** Entries not read for this long are removed (when a new one is written). */
const KEEP_MS = 24 * 3_600_000;
/** Stand-ins for the paths a report names, which differ from one synth to the next. */
const TEMPLATE = '<template>';
const STACK = '<stack>';

let validator: string | undefined;
/**
 * Where `npx cdk synth` (bin/tessera-app.ts) and the test apps (test/support/synth.ts) keep the
 * reports: one directory, so a test run after the README's synth finds the templates both make
 * (the blueprints, the organization stack) validated.
 */
export const VALIDATION_CACHE_DIR = join(dirname(dirname(dirname(fileURLToPath(import.meta.url)))), '.tessera', 'synth-cache', 'cfn-validate');

/** Cache directories pruned by this process (once each). */
const pruned = new Set<string>();

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

function readCached(cacheDir: string, key: string, stack: { templatePath: string; stackConstructPath: string }): PolicyViolation[] | undefined {
  const file = join(cacheDir, `${key}.json`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  let cached: unknown;
  try {
    cached = JSON.parse(text);
  } catch {
    return undefined; // not JSON (a disk that filled up): validated again and written anew
  }
  // Not a report of this module (an edited or foreign file): validated again and written anew.
  if (!isReport(cached)) return undefined;
  try {
    const now = new Date();
    utimesSync(file, now, now); // read: kept
  } catch { /* removed meanwhile */ }
  return cached.map((v) => ({
    ...v,
    violatingResources: v.violatingResources.map((r) => ({
      ...r,
      ...(r.templatePath === TEMPLATE ? { templatePath: stack.templatePath } : {}),
      ...(r.constructPath === STACK ? { constructPath: stack.stackConstructPath } : {}),
    })),
  }));
}

/** A list of violations as aws-cdk-lib's plugin reports them: objects with a rule name, a severity, a description and a list of resources (objects). */
function isReport(value: unknown): value is PolicyViolation[] {
  const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
  return Array.isArray(value) && value.every((v) => isObject(v) && typeof v.ruleName === 'string' && typeof v.severity === 'string'
    && typeof v.description === 'string' && Array.isArray(v.violatingResources) && v.violatingResources.every(isObject));
}

function writeCached(cacheDir: string, key: string, stack: { templatePath: string; stackConstructPath: string }, violations: readonly PolicyViolation[]): void {
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
  const file = join(cacheDir, `${key}.json`);
  const partial = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(partial, text);
    renameSync(partial, file); // atomic: readers see the whole file or none
  } catch {
    // A cache that cannot be written (another user's directory, a full disk) is skipped: the
    // report at hand is what counts, and the next synth validates again.
    try {
      rmSync(partial, { force: true });
    } catch { /* not ours to remove */ }
    return;
  }
  if (!pruned.has(cacheDir)) {
    pruned.add(cacheDir);
    let names: string[] = [];
    try {
      names = readdirSync(cacheDir);
    } catch { /* unreadable: nothing pruned */ }
    for (const name of names) {
      const path = join(cacheDir, name);
      try {
        if (Date.now() - statSync(path).mtimeMs > KEEP_MS) rmSync(path, { force: true });
      } catch { /* removed by another process */ }
    }
  }
}
