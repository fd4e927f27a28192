import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { motoBinary } from './support/moto-server.js';

// The CPU patches every test moto server loads (support/moto-python/tessera_moto_patches.py,
// imported by its sitecustomize.py) change none of moto's answers: tools/check_patches.py runs one
// scenario over the services the suites call with moto's own code and with the patches (each answer
// also recomputed by moto's code and compared, each rolled-back DynamoDB table compared with moto's
// full copy), and compares the answers of the two runs; they are
// in force for the moto the project pins, and any other moto runs its own code.

const ROOT = join(import.meta.dirname, '..', '..');
const MOTO_PYTHON_DIR = join(import.meta.dirname, 'support', 'moto-python');
const python = (): string => join(dirname(motoBinary()), 'python');

function runPython(args: string[]): string {
  // No moto-python/ on PYTHONPATH: the scripts import the modules themselves (sitecustomize.py stays out).
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONPATH: '' };
  for (const name of ['TESSERA_MOTO_PATCHES', 'TESSERA_MOTO_VERIFY', 'TESSERA_MOTO_PROBE']) delete env[name];
  return execFileSync(python(), args, { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
}

/**
 * The report of tools/<script> (its last line of output, JSON): also when the script exits non-zero
 * (a check failed), so the assertions name what differed; a script that printed nothing throws.
 */
function checkReport<T>(script: string): T {
  let out: string;
  try {
    out = runPython([join(MOTO_PYTHON_DIR, 'tools', script)]);
  } catch (error) {
    out = String((error as { stdout?: string }).stdout ?? '');
    if (!out.trim()) throw error;
  }
  return JSON.parse(out.trim().split('\n').at(-1)!) as T;
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
}

describe('moto CPU patches (support/moto-python/tessera_moto_patches.py)', () => {
  it("answer as moto's own code does over the suites' services, and a wrong memo would be caught", () => {
    const report = checkReport<CheckReport>('check_patches.py');
    expect(report.differences).toEqual([]);
    expect(report.applied).toEqual(['patch_serializer_value_lookup', 'patch_backend_for_host', 'patch_transact_rollback_copy', 'patch_update_item_stream_copy']);
    expect(report.services).toEqual(['apigateway', 'cloudformation', 'dynamodb', 'dynamodbstreams', 'ec2', 'events', 'iam', 'kms', 'logs', 'organizations', 's3', 'sqs', 'sts']);
    expect(report.answers).toBeGreaterThanOrEqual(85);
    expect(report.errorAnswers).toBeGreaterThanOrEqual(5);
    expect(report.verifiedAnswers).toBeGreaterThanOrEqual(60);
    expect(report.verifiedHosts).toBe(report.hosts - 2); // the two hosts without a backend are never remembered
    expect(report.verifiedRollbacks).toBeGreaterThanOrEqual(2); // the cancelled transactions' tables, items equal to moto's full copy
    expect(report.brokenMemoCaught).toBe(true);
  }, 120_000);

  it('are in force for the moto requirements-dev.txt pins, and off for any other version', () => {
    const pinned = /^moto\[server\]==(\S+)$/m.exec(readFileSync(join(ROOT, 'requirements-dev.txt'), 'utf8'))?.[1];
    const probe = (version: string): { patchedFor: string; applied: string[]; own: boolean } =>
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
            'own = [serialize.ResponseSerializer.get_value, werkzeug_app.DomainDispatcherApplication.get_backend_for_host, DynamoDBBackend.transact_write_items, DynamoDBBackend.update_item]',
            'import tessera_moto_patches as p',
            'now = [serialize.ResponseSerializer.get_value, werkzeug_app.DomainDispatcherApplication.get_backend_for_host, DynamoDBBackend.transact_write_items, DynamoDBBackend.update_item]',
            'print(json.dumps({"patchedFor": p.PATCHED_FOR, "applied": p.APPLIED, "own": own == now}))',
          ].join('\n'),
        ]),
      );
    const installed = probe('');
    expect(installed.patchedFor).toBe(pinned);
    expect(installed.applied).toHaveLength(4);
    expect(installed.own).toBe(false);
    const other = probe('9.9.9');
    expect(other).toEqual({ patchedFor: pinned, applied: [], own: true });
  }, 60_000);

  it("the second set (tessera_moto_parse_patches.py: dispatch, DynamoDB expression parsing, UpdateItem's copy of the old item, absent members of a serialized structure) answers as moto's own code does, wrong memos would be caught, and another moto version runs moto's code", () => {
    // tools/check_parse_patches.py: every protocol family and a DynamoDB scenario of repeated, refused and conditional expressions, with and without the set.
    const report = checkReport<{ applied: string[]; differences: string[]; answers: number; errorAnswers: number; verified: Record<string, number>; wrongAstCaught: boolean; wrongMethodsCaught: boolean; appliedForOtherVersion: string[] }>('check_parse_patches.py');
    expect(report.differences).toEqual([]);
    expect(report.applied).toEqual(['patch_method_names_from_class', 'patch_camelcase_to_underscores', 'patch_update_expression_parse', 'patch_condition_parse_reuse', 'patch_update_item_existing_copy', 'patch_serializer_absent_members']);
    expect(report.answers).toBeGreaterThanOrEqual(80);
    expect(report.errorAnswers).toBeGreaterThanOrEqual(20); // refused expressions, failed conditions, cancelled transactions, missing resources
    for (const kind of ['methodNames', 'camelcase', 'updateExpressions', 'conditions', 'existingItems', 'skippedMembers']) expect(report.verified[kind], kind).toBeGreaterThanOrEqual(40);
    expect(report.wrongAstCaught).toBe(true);
    expect(report.wrongMethodsCaught).toBe(true);
    expect(report.appliedForOtherVersion).toEqual([]);
  }, 120_000);
});
