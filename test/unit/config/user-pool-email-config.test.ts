import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config/load-config.js';
import { cognitoSesRegions, COGNITO_DEFAULT_EMAILS_PER_DAY } from '../../../lib/config/user-pool-email.js';
import { configErrorOf } from '../../support/config-errors.js';
import { homedIn } from '../../support/config-with.js';

const EMAIL = { fromEmail: 'no-reply@mail.acme.example' };

describe('config: identity.email (the tenant user pool\'s SES sending)', () => {
  it('is absent by default (Cognito\'s own sender, 50 mails a day) and takes withSES\'s options', () => {
    expect(loadConfig({ overrides: {} }).identity).toBeUndefined();
    expect(COGNITO_DEFAULT_EMAILS_PER_DAY).toBe(50);
    const full = { ...EMAIL, fromName: 'Acme AI', replyTo: 'support@acme.example', sesRegion: 'us-east-1', sesVerifiedDomain: 'mail.acme.example', configurationSetName: 'tessera-cognito_1' };
    expect(loadConfig({ overrides: { identity: { email: full } } }).identity).toEqual({ email: full });
  });

  it('refuses an address that does not parse, naming the key and the value', () => {
    expect(configErrorOf({ identity: { email: { fromEmail: 'no-reply' } } })).toMatch(/identity\.email\.fromEmail = "no-reply": must be an email address/);
    expect(configErrorOf({ identity: { email: { ...EMAIL, replyTo: 'support at acme' } } })).toMatch(/identity\.email\.replyTo = "support at acme": must be an email address/);
    expect(configErrorOf({ identity: { email: {} } })).toMatch(/identity\.email\.fromEmail/);
  });

  it('refuses a sesRegion Cognito cannot send through from the home Region, naming the ones it can', () => {
    expect(configErrorOf({ identity: { email: { ...EMAIL, sesRegion: 'eu-west-1' } } }))
      .toMatch(/identity\.email\.sesRegion = "eu-west-1": .*not an SES Region Cognito sends through for a user pool in us-east-1 \(homeRegion\): use us-east-1/);
    // a pool in us-east-2 may use its own Region or us-east-1 (the guide's table), not us-west-2
    expect(configErrorOf({ ...homedIn('us-east-2'), identity: { email: { ...EMAIL, sesRegion: 'us-west-2' } } })).toMatch(/identity\.email\.sesRegion = "us-west-2": .*use us-east-2 or us-east-1/);
    expect(loadConfig({ overrides: { ...homedIn('us-east-2'), identity: { email: { ...EMAIL, sesRegion: 'us-east-1' } } } }).identity?.email?.sesRegion).toBe('us-east-1');
    // another partition's Region is refused by name, as homeRegion's is
    expect(configErrorOf({ identity: { email: { ...EMAIL, sesRegion: 'cn-north-1' } } })).toMatch(/identity\.email\.sesRegion = "cn-north-1"/);
    expect(cognitoSesRegions('ap-northeast-1')).toEqual(['ap-northeast-1', 'us-west-2']);
    expect(cognitoSesRegions('eu-west-1')).toEqual(['eu-west-1']);
    expect(cognitoSesRegions('eu-north-1')).toEqual(['eu-north-1']);
  });

  it('refuses a sesVerifiedDomain that is not fromEmail\'s domain, a bad configuration set name and unknown keys', () => {
    expect(configErrorOf({ identity: { email: { ...EMAIL, sesVerifiedDomain: 'acme.example' } } })).toMatch(/identity\.email\.sesVerifiedDomain = "acme\.example": .*not the domain of fromEmail.*set it to mail\.acme\.example/);
    expect(configErrorOf({ identity: { email: { ...EMAIL, configurationSetName: 'tessera cognito' } } })).toMatch(/identity\.email\.configurationSetName = "tessera cognito": must be an SES configuration set name/);
    expect(configErrorOf({ identity: { email: { ...EMAIL, sourceArn: 'arn:aws:ses:us-east-1:123456789012:identity/x' } } })).toMatch(/identity\.email\.sourceArn/);
    expect(configErrorOf({ identity: { sms: {} } })).toMatch(/identity\.sms/);
  });

  it('refuses identity.email with gateway.jwt: no Cognito pool is built then', () => {
    const jwt = { issuer: 'https://idp.example.com/', jwksUri: 'https://idp.example.com/.well-known/jwks.json', audience: 'tessera' };
    expect(configErrorOf({ gateway: { jwt }, identity: { email: EMAIL } })).toMatch(/identity\.email.*gateway\.jwt names another token issuer \(https:\/\/idp\.example\.com\/\)/);
  });
});
