import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cachedJson } from './support/disk-cache.js';
import { motoPython } from './support/moto-server.js';
import { MOTO_ZYGOTE_SOCKET } from './support/moto-zygote.js';

// The CPU patches every test moto server loads (support/moto-python/tessera_moto_patches.py,
// imported by its sitecustomize.py) change none of moto's answers: tools/check_patches.py runs one
// scenario over the services the suites call with moto's own code and with the patches (each answer
// also recomputed by moto's code and compared, each rolled-back DynamoDB table compared with moto's
// full copy), and compares the answers of the two runs; they are
// in force for the moto the project pins, and any other moto runs its own code.
//
// The scripts' reports (and the two version probes) are a pure function of the interpreter that
// serves moto (motoPython()), the packages installed beside it, the patch modules and the scripts:
// they are kept by support/disk-cache.ts (.tessera/test-synth-cache/) under a key of all of those
// and nothing else
// (checksKey() below: an edit to the project's TypeScript is not one of their inputs), so a run with
// none of them changed reads them instead of ~9-13 s of Python.
// The planted defects (a wrong name memo, a wrong expression AST, a wrong method list, another
// moto version) are part of the same reports, computed in the same runs from the same inputs.
// `TESSERA_TEST_CACHE=off` runs the scripts every time; a run whose script failed a check is not kept.

const ROOT = join(import.meta.dirname, '..', '..');
const MOTO_PYTHON_DIR = join(import.meta.dirname, 'support', 'moto-python');

function runPython(args: string[]): string {
  // No moto-python/ on PYTHONPATH: the scripts import the modules themselves (sitecustomize.py stays out).
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONPATH: '' };
  for (const name of ['TESSERA_MOTO_PATCHES', 'TESSERA_MOTO_VERIFY', 'TESSERA_MOTO_PROBE']) delete env[name];
  return execFileSync(motoPython(), args, { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
}

/**
 * The reports of tools/check_patches.py and tools/check_parse_patches.py, run as forks of one
 * interpreter by tools/run_checks.py (the imports both make first, made once: 8.4-8.8 -> 6.6-7.2 s
 * of CPU), and whether each script exited 0. A report is a script's last line of output (JSON), also
 * when it exited non-zero (a check failed), so the assertions name what differed; a script that
 * printed nothing throws, with its traceback.
 */
function checkReports(): { patches: { report: CheckReport; passed: boolean }; parsePatches: { report: ParseCheckReport; passed: boolean }; headers: { report: HeadersCheckReport; passed: boolean } } {
  const results = runPython([join(MOTO_PYTHON_DIR, 'tools', 'run_checks.py')]).trim().split('\n').map((line) => JSON.parse(line) as { script: string; code: number; stdout: string; error: string | null });
  const report = <T>(script: string): { report: T; passed: boolean } => {
    const result = results.find((r) => r.script === script);
    if (!result?.stdout.trim()) throw new Error(`tools/${script} printed no report: ${result?.error ?? 'no result from run_checks.py'}`);
    return { report: JSON.parse(result.stdout.trim().split('\n').at(-1)!) as T, passed: result.code === 0 };
  };
  return { patches: report<CheckReport>('check_patches.py'), parsePatches: report<ParseCheckReport>('check_parse_patches.py'), headers: report<HeadersCheckReport>('check_headers.py') };
}

interface CheckReport {
  moto: string;
  patchedFor: string;
  applied: string[];
  answers: number;
  verifiedAnswers: number;
  services: string[];
  errorAnswers: number;
  differences: string[];
  hosts: number;
  verifiedHosts: number;
  verifiedRollbacks: number;
  brokenMemoCaught: boolean;
  verifiedListings: number;
  wrongListingCaught: boolean;
  etaglessListing: boolean;
  kms: { deferred: number; signaturesValid: number; publicKeys: Record<string, [number, string | null]>; replicaSharesKey: boolean; verified: number };
  /** patch_reset_drops_backends, with moto's own reset (`moto`) and the patched one: `shape` is [attribute names, AMIs, VPCs, subnets in us-east-1a]. */
  reset: Record<'moto' | 'patched', { deferred: boolean; shape: [string[], number, number, number]; rebuiltOnRead: number; classBack: boolean; newBackend: boolean }> & { same: boolean };
  /** patch_cognito_pool_key_once: two pools' keys. */
  cognito: { shared: boolean; sameKey: boolean; verified: number };
}

interface ParseCheckReport { applied: string[]; differences: string[]; answers: number; errorAnswers: number; verified: Record<string, number>; wrongAstCaught: boolean; wrongMethodsCaught: boolean; wrongCloneCaught: boolean; wrongTraversalCaught: boolean; wrongClauseListCaught: boolean; wrongAttributeValueCaught: boolean; wrongUnreadCaught: boolean; timestamps: { values: number; answers: number; differences: string[]; fastPath: number; oddFastPath: number; wrongCaught: boolean }; randomStrings: { strings: number; same: boolean; verified: number; wrongCaught: boolean }; appliedForOtherVersion: string[] }
interface HeadersCheckReport { blocks: number; builtHere: number; sdkBlocksBuiltHere: boolean; differences: unknown[]; wrongBuilderCaught: boolean; installedWhenOff: boolean; installed: boolean }
interface Probe { patchedFor: string; applied: string[]; own: boolean }
interface Checks {
  patches: { report: CheckReport; passed: boolean };
  parsePatches: { report: ParseCheckReport; passed: boolean };
  headers: { report: HeadersCheckReport; passed: boolean };
  /** The first set imported under the installed moto, and under moto claiming version 9.9.9. */
  probes: { installed: Probe; other: Probe };
}

/** The probe: tessera_moto_patches imported under the installed moto (version '') or one claiming `version`. */
const probe = (version: string): Probe =>
  JSON.parse(
    runPython([
      '-c',
      [
        'import json, sys',
        `sys.path.insert(0, ${JSON.stringify(MOTO_PYTHON_DIR)})`,
        'import moto',
        version ? `moto.__version__ = ${JSON.stringify(version)}` : 'pass',
        'from moto.core import serialize',
        'from moto.moto_server import werkzeug_app',
        'from moto.dynamodb.models import DynamoDBBackend',
        'from moto.kms.models import Key',
        'from moto.s3.models import S3Backend',
        'own = [serialize.ResponseSerializer.get_value, werkzeug_app.DomainDispatcherApplication.get_backend_for_host, DynamoDBBackend.transact_write_items, DynamoDBBackend.update_item, Key.__init__, S3Backend.list_object_versions]',
        'import tessera_moto_patches as p',
        'now = [serialize.ResponseSerializer.get_value, werkzeug_app.DomainDispatcherApplication.get_backend_for_host, DynamoDBBackend.transact_write_items, DynamoDBBackend.update_item, Key.__init__, S3Backend.list_object_versions]',
        'print(json.dumps({"patchedFor": p.PATCHED_FOR, "applied": p.APPLIED, "own": own == now}))',
      ].join('\n'),
    ]),
  );

/** A script failed a check: its reports are returned to the tests but not kept in the cache. */
class FailedChecks extends Error {
  constructor(readonly checks: Checks) {
    super('a moto patch check failed');
  }
}

/** Runs the three check scripts and both probes (~8 s of CPU). @throws FailedChecks when a script failed a check */
function computeChecks(): Checks {
  const checks: Checks = { ...checkReports(), probes: { installed: probe(''), other: probe('9.9.9') } };
  if (!checks.patches.passed || !checks.parsePatches.passed || !checks.headers.passed) throw new FailedChecks(checks);
  return checks;
}

/**
 * The key of the reports, every input of them: this file's text (how they are computed); the interpreter that serves moto (motoPython(), its
 * real path, size and modification time); every distribution installed beside it (the names of
 * its site-packages' `*.dist-info`: each package and version); the size and modification time of
 * every file of moto, botocore and boto3 there (an installed file edited in place), `__pycache__`
 * aside; the bytes of every module in moto-python/ and its tools/ (the patches, their verify mode,
 * the scripts); and the environment variables moto, botocore and Python read (`MOTO_*`, `AWS_*`,
 * `BOTO*`, `PYTHON*`, `TESSERA_MOTO*` but the zygote's socket, `TEST_SERVER_MODE`).
 */
function checksKey(): unknown {
  const python = motoPython();
  const real = realpathSync(python);
  const { size, mtimeMs } = statSync(real);
  const lib = join(python, '..', '..', 'lib');
  const isDir = (dir: string) => { try { return statSync(dir).isDirectory(); } catch { return false; } };
  const sitePackages = isDir(lib) ? readdirSync(lib).map((v) => join(lib, v, 'site-packages')).filter(isDir) : [];
  const files = createHash('sha256');
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name === '__pycache__') continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else { const st = statSync(path); files.update(`${path}\0${st.size}\0${st.mtimeMs}\0`); }
    }
  };
  for (const dir of sitePackages) for (const pkg of ['moto', 'botocore', 'boto3']) { try { walk(join(dir, pkg)); } catch { /* not installed there */ } }
  const modules = createHash('sha256');
  for (const dir of [MOTO_PYTHON_DIR, join(MOTO_PYTHON_DIR, 'tools')]) {
    for (const name of readdirSync(dir).filter((n) => n.endsWith('.py')).sort()) modules.update(`${name}\0`).update(readFileSync(join(dir, name))).update('\0');
  }
  const env = Object.entries(process.env).filter(([k]) => k !== MOTO_ZYGOTE_SOCKET).filter(([k]) => /^(MOTO_|AWS_|BOTO|PYTHON|TESSERA_MOTO|TEST_SERVER_MODE$)/.test(k) && k !== 'PYTHONPATH' && !/^TESSERA_MOTO_(PATCHES|VERIFY|PROBE)$/.test(k)).sort();
  const parts = {
    code: createHash('sha256').update(readFileSync(new URL(import.meta.url))).digest('hex'),
    python, real, size, mtimeMs,
    distributions: sitePackages.flatMap((dir) => readdirSync(dir).filter((n) => n.endsWith('.dist-info')).sort()),
    files: files.digest('hex'),
    modules: modules.digest('hex'),
    env,
  };
  return parts;
}

let checks: Checks | undefined;
/**
 * The reports: from the test cache (support/disk-cache.ts, `moto-patch-checks-<key>.json`, keyed on
 * checksKey() alone: they read none of the project's sources), or the scripts run, once per
 * process. A failed check is returned to the tests and not kept (computeChecks throws).
 * `TESSERA_TEST_CACHE=off`: run every time, nothing read or written.
 */
function patchChecks(): Checks {
  if (checks) return checks;
  try {
    checks = cachedJson('moto-patch-checks', checksKey(), computeChecks, { sources: false });
  } catch (error) {
    if (!(error instanceof FailedChecks)) throw error;
    checks = error.checks;
  }
  return checks;
}

describe('moto CPU patches (support/moto-python/tessera_moto_patches.py)', () => {
  // The reports of all three tests, from the cache or computed once (two scripts and two probes:
  // ~20-30 s of wall on a loaded machine, more than one test's budget once was).
  beforeAll(() => {
    patchChecks();
  }, 300_000);

  it("answer as moto's own code does over the suites' services, and a wrong memo would be caught", () => {
    const { report } = patchChecks().patches;
    expect(report.differences).toEqual([]);
    expect(report.applied).toEqual(['patch_serializer_value_lookup', 'patch_backend_for_host', 'patch_transact_rollback_copy', 'patch_update_item_stream_copy', 'patch_kms_lazy_private_key', 'patch_s3_listing_copies', 'patch_reset_drops_backends', 'patch_cognito_pool_key_once']);
    expect(report.services).toEqual(['apigateway', 'cloudformation', 'dynamodb', 'dynamodbstreams', 'ec2', 'events', 'iam', 'kms', 'logs', 'organizations', 's3', 'sqs', 'sts']);
    expect(report.answers).toBeGreaterThanOrEqual(85);
    expect(report.errorAnswers).toBeGreaterThanOrEqual(5);
    expect(report.verifiedAnswers).toBeGreaterThanOrEqual(60);
    expect(report.verifiedHosts).toBe(report.hosts - 2); // the two hosts without a backend are never remembered
    expect(report.verifiedRollbacks).toBeGreaterThanOrEqual(2); // the cancelled transactions' tables, items equal to moto's full copy
    expect(report.brokenMemoCaught).toBe(true);
    // S3 ListObjectVersions (versions, delete markers, an object in parts; whole, by page, prefix, delimiter, marker): each listing
    // compared with moto's own, and a listing that drops a version is caught
    expect(report.verifiedListings).toBeGreaterThanOrEqual(8);
    expect(report.wrongListingCaught).toBe(true);
    expect(report.etaglessListing).toBe(true); // versions without an ETag yet: computed on the listed stand-ins, as on moto's copies; the stored keys keep none
    // KMS: CreateKey makes no private key (six specs); Sign, Verify and GetPublicKey make it, of the
    // spec's size and curve (each also compared with moto's own call), and a replica shares its primary's
    expect(report.kms).toEqual({
      deferred: 6,
      signaturesValid: 4,
      publicKeys: { RSA_2048: [2048, null], RSA_3072: [3072, null], ECC_NIST_P256: [256, 'secp256r1'], ECC_NIST_P384: [384, 'secp384r1'] },
      replicaSharesKey: true,
      verified: 5,
    });
    // Reset (patch_reset_drops_backends): BackendDict.reset builds no EC2 backend again (moto's own reset does); the
    // dropped backend, read afterwards, is built then, as moto's reset builds it; the next request gets a new backend
    const shape = [expect.arrayContaining(['amis', 'vpcs', 'subnets', 'region_name', 'account_id']), expect.any(Number), 1, 1];
    expect(report.reset).toMatchObject({
      moto: { deferred: false, shape, newBackend: true },
      patched: { deferred: true, shape, rebuiltOnRead: 1, classBack: true, newBackend: true },
      same: true,
    });
    expect(report.reset.patched.shape[1]).toBeGreaterThan(1000); // the AMIs moto loads for us-east-1
    // Cognito (patch_cognito_pool_key_once): two user pools share one imported key, the key moto's own import of its file gives
    expect(report.cognito).toEqual({ shared: true, sameKey: true, verified: 2 });
  }, 120_000);

  it('are in force for the moto requirements-dev.txt pins, and off for any other version', () => {
    const pinned = /^moto\[server\]==(\S+)$/m.exec(readFileSync(join(ROOT, 'requirements-dev.txt'), 'utf8'))?.[1];
    const { installed, other } = patchChecks().probes;
    expect(installed.patchedFor).toBe(pinned);
    expect(installed.applied).toHaveLength(8);
    expect(installed.own).toBe(false);
    expect(other).toEqual({ patchedFor: pinned, applied: [], own: true });
  }, 120_000);

  it("the second set (tessera_moto_parse_patches.py: dispatch, DynamoDB expression parsing, UpdateItem's copy of the old item and its tree where the answer does not read it, absent members of a serialized structure, update-expression validation, DynamoDB attribute values serialized directly, ISO timestamps without dateutil, random strings without a call per character) answers as moto's own code does, wrong memos would be caught, and another moto version runs moto's code", () => {
    // tools/check_parse_patches.py: every protocol family and a DynamoDB scenario of repeated, refused and conditional expressions, with and without the set.
    const { report } = patchChecks().parsePatches;
    expect(report.differences).toEqual([]);
    expect(report.applied).toEqual(['patch_method_names_from_class', 'patch_camelcase_to_underscores', 'patch_update_expression_parse', 'patch_condition_parse_reuse', 'patch_update_item_existing_copy', 'patch_update_item_unread_old_item', 'patch_serializer_absent_members', 'patch_update_validation', 'patch_update_clause_lists', 'patch_serializer_attribute_values', 'patch_serializer_iso_timestamps', 'patch_moto_random_string']);
    expect(report.answers).toBeGreaterThanOrEqual(80);
    expect(report.errorAnswers).toBeGreaterThanOrEqual(20); // refused expressions, failed conditions, cancelled transactions, missing resources
    for (const kind of ['methodNames', 'camelcase', 'updateExpressions', 'conditions', 'existingItems', 'skippedMembers', 'astClones', 'traversals', 'clauseLists', 'timestamps', 'randomStrings']) expect(report.verified[kind], kind).toBeGreaterThanOrEqual(40);
    expect(report.wrongAstCaught).toBe(true);
    expect(report.wrongMethodsCaught).toBe(true);
    // patch_update_validation: an AST copy that lost an action, a traversal with another processing map
    expect(report.wrongCloneCaught).toBe(true);
    expect(report.wrongTraversalCaught).toBe(true);
    // patch_update_clause_lists: a clause list that lost its last clause
    expect(report.wrongClauseListCaught).toBe(true);
    // patch_serializer_attribute_values: an attribute value's map that lost its last entry
    expect(report.wrongAttributeValueCaught).toBe(true);
    // patch_update_item_unread_old_item: the old item skipped for every ReturnValues changes ALL_OLD, UPDATED_OLD and UPDATED_NEW
    expect(report.wrongUnreadCaught).toBe(true);
    // patch_serializer_iso_timestamps: moto's ISO forms for 2,000 random instants and odd forms, each in the serializer's four
    // formats, give the same strings (or the same failure) as moto's dateutil path; the fast path is taken for every ISO form
    // and for none of the odd ones, and a datetime that lost its microseconds is caught
    expect(report.timestamps.differences).toEqual([]);
    expect(report.timestamps.values).toBeGreaterThanOrEqual(2_000);
    expect(report.timestamps.fastPath).toBeGreaterThanOrEqual(8_000);
    expect(report.timestamps.oddFastPath).toBe(0);
    expect(report.timestamps.wrongCaught).toBe(true);
    // patch_moto_random_string: seeded, every argument combination draws the same strings (the request ids among them) and
    // leaves the generator in the same state; a draw with one bit too few is caught
    expect(report.randomStrings.same).toBe(true);
    expect(report.randomStrings.strings).toBeGreaterThanOrEqual(900);
    expect(report.randomStrings.wrongCaught).toBe(true);
    expect(report.appliedForOtherVersion).toEqual([]);
  }, 120_000);

  it("moto's request headers (tessera_moto_keepalive.py parse_headers) are the message http.client's email parser makes, for SDK requests, edge cases and 40,000 random blocks, and a wrong builder would be caught", () => {
    // tools/check_headers.py: the message's class and every attribute, or the same exception.
    const { report, passed } = patchChecks().headers;
    expect(report.differences).toEqual([]);
    expect(report.blocks).toBeGreaterThanOrEqual(40_000);
    expect(report.builtHere).toBeGreaterThanOrEqual(1_000); // the fast path was taken, not only the email parser
    expect(report.sdkBlocksBuiltHere).toBe(true);
    expect(report.wrongBuilderCaught).toBe(true);
    expect(report.installed).toBe(true);
    expect(report.installedWhenOff).toBe(false);
    expect(passed).toBe(true);
  }, 120_000);
});
