import { describe, expect, it } from 'vitest';
import { policyStatementDifferences } from '../../lib/iam-policy-diff.js';

const written = {
  Version: '2012-10-17',
  Statement: [
    { Sid: 'Read', Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*'] },
    { Sid: 'Tagged', Effect: 'Allow', Action: ['eks:TagResource'], Resource: 'arn:aws:eks:us-east-1:111111111111:podidentityassociation/c/*', Condition: { StringEquals: { 'aws:ResourceTag/t': 'acme' } } },
  ],
};

describe('policyStatementDifferences', () => {
  it('finds none in a document IAM reads alike: lists as sets, a list of one as a string, actions in any case, keys in any order', () => {
    const same = {
      Statement: [
        { Condition: { StringEquals: { 'aws:ResourceTag/t': ['acme'] } }, Resource: ['arn:aws:eks:us-east-1:111111111111:podidentityassociation/c/*'], Action: 'EKS:TagResource', Effect: 'Allow', Sid: 'Tagged' },
        { Sid: 'Read', Effect: 'Allow', Action: ['s3:listbucket', 's3:GetObject'], Resource: ['arn:aws:s3:::b/*', 'arn:aws:s3:::b'] },
      ],
    };
    expect(policyStatementDifferences(written, same)).toEqual([]);
  });

  it('names a changed effect and condition, a NotResource, a statement without a Sid by its place, and a document not read', () => {
    const edited = {
      Statement: [
        { Sid: 'Read', Effect: 'Deny', Action: ['s3:GetObject', 's3:ListBucket'], Resource: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*'], NotResource: 'arn:aws:s3:::c' },
        { Sid: 'Tagged', Effect: 'Allow', Action: ['eks:TagResource'], Resource: 'arn:aws:eks:us-east-1:111111111111:podidentityassociation/c/*', Condition: { StringEqualsIfExists: { 'aws:ResourceTag/t': 'acme' } } },
        { Effect: 'Allow', NotAction: 'iam:*', Resource: '*' },
      ],
    };
    expect(policyStatementDifferences(written, edited)).toEqual([
      'statement Read: NotResource added arn:aws:s3:::c; Effect "Deny", not "Allow"',
      'statement Tagged: Condition {"StringEqualsIfExists":{"aws:ResourceTag/t":"acme"}}, not {"StringEquals":{"aws:ResourceTag/t":"acme"}}',
      'statement #3 added (Allow NotAction iam:* on *)',
    ]);
    expect(policyStatementDifferences(written, undefined)).toEqual(['statement Read missing', 'statement Tagged missing']);
  });
});
