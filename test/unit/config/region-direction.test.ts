import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config/load-config.js';
import { regionProblem } from '../../../lib/config/region.js';

/**
 * Found by a new user's trial (s40h): `homeRegion: us-est-1` was taken as a region CDK's table does not know yet (a newer
 * one), refused only as outside allowedRegions, and the base models' images were sent to the registry of "us-est-1".
 */
describe('regionProblem: a name of the region shape whose direction is no region\'s', () => {
  it('refuses a misspelt direction, naming the directions and the nearest known region', () => {
    expect(regionProblem('us-est-1')).toBe('is not an AWS region name: "est" is no direction of one (central, east, north, northeast, northwest, south, southeast, southwest, west); did you mean us-east-1?');
    expect(regionProblem('eu-cental-1')).toMatch(/"cental" is no direction of one .*; did you mean eu-central-1\?$/);
    // no known region within two edits: no guess
    expect(regionProblem('zz-upward-4')).toBe('is not an AWS region name: "upward" is no direction of one (central, east, north, northeast, northwest, south, southeast, southwest, west)');
  });

  it('still takes a newer region of a real direction, and every region CDK knows', () => {
    expect(regionProblem('ap-southeast-9')).toBeUndefined();
    expect(regionProblem('eu-southwest-1')).toBeUndefined();
    expect(regionProblem('us-east-1')).toBeUndefined();
  });

  it('fails the config naming homeRegion and the region it meant', () => {
    expect(() => loadConfig({ overrides: { homeRegion: 'us-est-1', allowedRegions: ['us-est-1', 'us-west-2'] } }))
      .toThrow(/homeRegion = "us-est-1": is not an AWS region name: "est" is no direction of one .*; did you mean us-east-1\?/);
  });
});
