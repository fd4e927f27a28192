import { describe, expect, it } from 'vitest';
import { policyStatementDifferences } from '../../lib/iam-policy-diff.js';
import { statementsOf } from '../../lib/iam-policy-document.js';
import { principalArnConditions } from '../../lib/preflight/service-rules.js';

const condition = { Sid: 'Admins', Effect: 'Allow', Action: 'kms:*', Resource: '*', Condition: { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::111111111111:role/admin' } } };

describe('statementsOf: one reading of a policy document\'s Statement for the doctor\'s diff and the preflight\'s rules', () => {
  it('a list as it is, a lone statement object as a list of one, anything else as none', () => {
    expect(statementsOf({ Statement: [condition, condition] })).toEqual([condition, condition]);
    expect(statementsOf({ Statement: condition })).toEqual([condition]);
    for (const malformed of [undefined, null, {}, { Statement: null }, { Statement: 'Allow' }, { Statement: 5 }, { Statement: true }, 'text']) {
      expect(statementsOf(malformed), JSON.stringify(malformed)).toEqual([]);
    }
  });

  it('answers for a malformed Statement as each module did: the diff sees no statement, the preflight no condition', () => {
    const written = { Version: '2012-10-17', Statement: [condition] };
    for (const Statement of ['Allow', 5, null]) {
      expect(policyStatementDifferences(written, { Statement }), String(Statement)).toEqual(['statement Admins missing']);
      expect(principalArnConditions({ KeyPolicy: { Statement } }), String(Statement)).toEqual([]);
    }
    expect(principalArnConditions({ KeyPolicy: { Statement: condition } })).toEqual([{ property: 'KeyPolicy', statement: 'Admins', operator: 'ArnLike', value: 'arn:aws:iam::111111111111:role/admin' }]);
  });
});
