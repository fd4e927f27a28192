import { describe, expect, it } from 'vitest';
import { effort } from '../../../../lambdas/inference/providers/bedrock/reasoning-effort.js';
import { body, expectUnsupported } from './refusal.js';

describe('effort', () => {
  it.each(['low', 'medium', 'high', 'xhigh', 'max'])('maps reasoning_effort %s to outputConfig.effort', (level) => {
    expect(effort(body({ reasoning_effort: level }))).toBe(level);
  });

  it('sends nothing when absent and refuses levels below low', () => {
    expect(effort(body())).toBeUndefined();
    expect(effort(body({ reasoning_effort: null }))).toBeUndefined();
    expectUnsupported(() => effort(body({ reasoning_effort: 'minimal' })), 'reasoning_effort');
    expectUnsupported(() => effort(body({ reasoning_effort: 'none' })), 'reasoning_effort');
  });
});
