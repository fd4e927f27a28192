import { describe, expect, it } from 'vitest';
import { cognitoUsernameProblem } from '../../../lib/identity/cognito-username.js';
import { adminInviteProblem } from '../../../lib/tenant-record.js';

/**
 * Cognito's Username rule (1-128 characters of letters, marks, symbols, numbers, punctuation) is checked as code points
 * (the regular expression's `u` flag), and the refusal said the length in UTF-16 units and cut the address inside a
 * surrogate pair: 135 emoji-and-ASCII characters were "265 characters", shown ending in a lone \ud83d.
 */
describe('cognitoUsernameProblem', () => {
  it('takes 128 characters and refuses 129, ASCII or astral, saying the length the rule counts', () => {
    expect(cognitoUsernameProblem(`${'a'.repeat(122)}@b.com`, 'email')).toBeUndefined();
    expect(cognitoUsernameProblem(`${'a'.repeat(123)}@b.com`, 'email')).toMatch(/ \(129 characters\): .*1-128 characters$/);
    expect(cognitoUsernameProblem(`${'😀'.repeat(122)}@b.com`, 'email')).toBeUndefined();
    const astral = cognitoUsernameProblem(`${'😀'.repeat(123)}@b.com`, 'adminEmail')!;
    expect(astral).toMatch(new RegExp(`^adminEmail = "${'😀'.repeat(97)}\\.\\.\\." \\(129 characters\\): `));
    expect(astral).not.toMatch(/\\ud83d/);
    expect(adminInviteProblem(`${'😀'.repeat(123)}@b.com`, true, false)).toContain('(129 characters)');
  });

  it('refuses leading or trailing whitespace as not of the rule\'s characters, naming the value', () => {
    expect(cognitoUsernameProblem(' ops@acme.example', 'adminEmail')).toMatch(/^adminEmail = " ops@acme\.example": .*no spaces or control characters/);
    expect(cognitoUsernameProblem('ops@acme.example\t', 'adminEmail')).toMatch(/^adminEmail = "ops@acme\.example\\t": /);
  });
});
