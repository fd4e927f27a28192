import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, template } from '../support/synth.js';

let platform: Template;
let stackOf: ReturnType<typeof buildApp>['platform'];
beforeAll(() => {
  stackOf = buildApp().platform;
  platform = template(stackOf);
});

/** The statements of a lifecycle function's managed policy, by handler name. */
function statementsOf(handler: string): Array<Record<string, any>> {
  const fn = stackOf.lifecycle.functions[handler as keyof typeof stackOf.lifecycle.functions];
  const id = stackOf.getLogicalId(fn.managedPolicy.node.defaultChild as never);
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
