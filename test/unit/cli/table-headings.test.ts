// `tessera tenants list` headed its columns TENANTID, ACCOUNTID, BLUEPRINTVERSION and CURRENTSTEP (keys list KEYID,
// EXPIRESAT, LASTUSEDAT; users list CREATEDAT; admins list PRINCIPALID): a camelCase key in capitals, its words run
// together. Found by a new user's first `tenants list` on the local platform.
import { describe, expect, it } from 'vitest';
import { columnHeading, table } from '../../../lib/cli/format.js';

describe('table (lib/cli/format.ts): column headings', () => {
  it('puts a camelCase key\'s words apart, in capitals, and leaves one-word and spaced keys as they were', () => {
    expect(['tenantId', 'blueprintVersion', 'currentStep', 'lastUsedAt', 'principalId', 'tier', 'in flight', 'cost usd'].map(columnHeading))
      .toEqual(['TENANT ID', 'BLUEPRINT VERSION', 'CURRENT STEP', 'LAST USED AT', 'PRINCIPAL ID', 'TIER', 'IN FLIGHT', 'COST USD']);
  });

  it('sizes each column to its heading or its widest cell, whichever is wider', () => {
    const rows = [{ tenantId: 'acme', tier: 'starter', accountId: '333333333333', blueprintVersion: '1.0.0' }];
    expect(table(rows, ['tenantId', 'tier', 'accountId', 'blueprintVersion', 'currentStep']).split('\n')).toEqual([
      'TENANT ID  TIER     ACCOUNT ID    BLUEPRINT VERSION  CURRENT STEP',
      'acme       starter  333333333333  1.0.0              -',
    ]);
  });
});
