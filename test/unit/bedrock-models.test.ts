import { describe, expect, it } from 'vitest';
import { catalogFoundationModelArns } from '../../lib/bedrock-models.js';

const entry = (id: string, upstream: string) => ({ id, upstream });

describe('catalogFoundationModelArns: the foundation models the gateway catalog runs on (the router\'s bedrock:InvokeModel resources)', () => {
  it('names each bedrock/ model\'s foundation model in the region, once, and skips the other providers', () => {
    expect(catalogFoundationModelArns([
      entry('bedrock/amazon.nova-lite', 'amazon.nova-lite-v1:0'),
      entry('bedrock/nova-again', 'amazon.nova-lite-v1:0'),
      entry('bedrock/anthropic.claude-3-5-haiku', 'anthropic.claude-3-5-haiku-20241022-v1:0'),
      entry('openai/gpt-4o-mini', 'gpt-4o-mini'),
      entry('openai-compatible/default', 'default'),
    ], 'aws', 'us-east-1')).toEqual([
      'arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0',
      'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0',
    ]);
  });

  it('reads a cross-region profile (id or system profile ARN) as its foundation model in every Region, where Bedrock may route it; a foundation-model ARN as itself', () => {
    expect(catalogFoundationModelArns([
      entry('bedrock/a', 'us.anthropic.claude-3-5-haiku-20241022-v1:0'),
      entry('bedrock/b', 'arn:aws:bedrock:us-west-2::foundation-model/amazon.nova-pro-v1:0'),
      entry('bedrock/c', 'arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.meta.llama3-2-3b-instruct-v1:0'),
      entry('bedrock/d', 'global.anthropic.claude-sonnet-4-20250514-v1:0'),
    ], 'aws', 'us-east-1')).toEqual([
      'arn:aws:bedrock:*::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0',
      'arn:aws:bedrock:*::foundation-model/anthropic.claude-sonnet-4-20250514-v1:0',
      'arn:aws:bedrock:*::foundation-model/meta.llama3-2-3b-instruct-v1:0',
      'arn:aws:bedrock:us-west-2::foundation-model/amazon.nova-pro-v1:0',
    ]);
  });

  it('keeps foundation-model/* of the region for an application inference profile ARN, whose model its ARN does not say', () => {
    expect(catalogFoundationModelArns([
      entry('bedrock/a', 'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123def456'),
      entry('bedrock/b', 'amazon.nova-lite-v1:0'),
    ], 'aws', 'us-east-1')).toEqual([
      'arn:aws:bedrock:us-east-1::foundation-model/*',
      'arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0',
    ]);
  });

  it('names nothing for a catalog without a bedrock/ model', () => {
    expect(catalogFoundationModelArns([entry('openai/gpt-4o-mini', 'gpt-4o-mini')], 'aws', 'us-east-1')).toEqual([]);
  });
});
