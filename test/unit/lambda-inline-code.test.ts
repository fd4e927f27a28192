import { describe, expect, it } from 'vitest';
import { APPLY_MANIFESTS_SOURCE } from '../../constructs/cluster-manifests.js';
import { INLINE_CODE_ZIP_MAX_BYTES, inlineCodeProblem, inlineCodeZipBytes } from '../../lib/lambda-inline-code.js';

/**
 * CloudFormation's rule for a Lambda function's inline code (AWS::Lambda::Function Code.ZipFile): the zip it builds of the
 * source "cannot exceed 4MB". The 4,096-character limit the dedicated cluster's manifests handler was held to is gone from
 * the Template Reference (removed in 2022; aws-cdk-lib dropped its own check then, aws/aws-cdk#20624).
 */
describe('inline Lambda code (Code.ZipFile)', () => {
  it('takes a handler of more than 4,096 characters, which CloudFormation accepts (the old rule refused it)', () => {
    // GIVEN a Python handler of 5,000 characters
    const source = `def handler(e, c):\n  pass\n${'# a comment line, repeated to 5,000 characters\n'.repeat(110)}`.slice(0, 5000);
    expect(source.length).toBe(5000);
    // THEN it is within the rule
    expect(inlineCodeProblem(source, 'lambdas/x/index.py')).toBeUndefined();
  });

  it('refuses a source whose zip would pass 4 MB, naming the file, its bytes and the limit', () => {
    const source = 'x'.repeat(INLINE_CODE_ZIP_MAX_BYTES);
    expect(inlineCodeZipBytes(source)).toBeGreaterThan(INLINE_CODE_ZIP_MAX_BYTES);
    expect(inlineCodeProblem(source, 'lambdas/x/index.py')).toMatch(/^lambdas\/x\/index\.py: its zip would take up to 4000\d{3} bytes: CloudFormation's Code\.ZipFile zip takes at most 4000000 \(4 MB\)/);
  });

  it('counts bytes, not characters (UTF-8), and the zip\'s own headers', () => {
    // 'é' is two bytes in UTF-8; a zip of one stored file adds its local header, central directory entry and end record
    expect(inlineCodeZipBytes('é') - inlineCodeZipBytes('e')).toBe(1);
    expect(inlineCodeZipBytes('')).toBeGreaterThanOrEqual(30 + 46 + 22);
  });

  it('the dedicated cluster\'s manifests handler is within it', () => {
    expect(inlineCodeProblem(APPLY_MANIFESTS_SOURCE, 'lambdas/cluster-manifests/apply_manifests.py')).toBeUndefined();
  });
});
