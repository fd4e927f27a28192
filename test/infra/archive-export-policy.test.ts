import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultAppTemplates, type DefaultAppTemplates } from '../support/default-app.js';

let app: DefaultAppTemplates;
let platform: Template;
beforeAll(() => {
  app = defaultAppTemplates(); // the default app's templates, shared across files
  platform = app.platformWithPolicies; // the Lambdas' policies are in the FunctionPolicies nested stack
});

/**
 * The statements of a lifecycle function's managed policy, by handler name: the policy construct
 * of `platform.lifecycle.functions[handler].managedPolicy`, found by its path (the platform's
 * Lambdas keep their managed policies in its FunctionPolicies nested stack, under the function's
 * path in the platform with `--` for `/`: constructs/lambda-function.ts placeFunctionPoliciesIn).
 */
function statementsOf(handler: string): Array<Record<string, any>> {
  const id = app.logicalIdAt(`TesseraPlatform/FunctionPolicies/Lifecycle--${handler}/Policy/Resource`);
  expect(platform.toJSON().Resources[id].Type).toBe('AWS::IAM::ManagedPolicy');
  return platform.toJSON().Resources[id].Properties.PolicyDocument.Statement;
}

describe('archive export permissions', () => {
  it('lets the export function copy in parts, read back its manifest parts and list one export prefix, and nothing more', () => {
    // GIVEN / WHEN the platform stack / THEN
    const bySid = Object.fromEntries(statementsOf('export-tenant-data').map((s) => [s.Sid, s]));
    expect([...bySid.WriteExport.Action].sort()).toEqual(['s3:AbortMultipartUpload', 's3:ListMultipartUploadParts', 's3:PutObject']);
    expect(bySid.ReadExportManifestParts.Action).toBe('s3:GetObject');
    expect(JSON.stringify(bySid.ReadExportManifestParts.Resource)).toContain('/*/manifest/part-*.jsonl');
    expect(bySid.ListOneExport).toMatchObject({ Action: 's3:ListBucket', Condition: { StringLike: { 's3:prefix': '?*/?*/' } } });
    expect(bySid.WriteArchive).toBeUndefined();
  });

  it('leaves the other archive writers with PutObject only', () => {
    for (const handler of ['snapshot-database', 'inventory-retained-stores']) {
      const sids = statementsOf(handler).map((s) => s.Sid);
      expect(sids, handler).toContain('WriteArchive');
      expect(sids, handler).not.toEqual(expect.arrayContaining(['WriteExport']));
      expect(sids, handler).not.toContain('ListOneExport');
    }
  });
});
