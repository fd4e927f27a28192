import {
  AdminCreateUserCommand, AdminGetUserCommand, ListUsersCommand,
  type AttributeType, type CognitoIdentityProviderClient, type UserType,
} from '@aws-sdk/client-cognito-identity-provider';
import { CliError } from '../cli-error.js';
import { awsCallError } from './cognito-errors.js';

/** The user attribute that carries the tenant; the gateway's authorizer reads it from the ID token. */
export const TENANT_ATTRIBUTE = 'custom:tenant_id';

/** A tenant user as the CLI shows it. */
export interface TenantUser {
  /** Cognito's username: the user's internal id (`sub`), as the pool signs in by email. */
  username: string;
  email: string;
  tenantId: string;
  /** Cognito's UserStatus: FORCE_CHANGE_PASSWORD until the first sign-in, then CONFIRMED. */
  status: string;
  enabled: boolean;
  createdAt?: string;
}

const attr = (attrs: AttributeType[] | undefined, name: string) => attrs?.find((a) => a.Name === name)?.Value;

function toTenantUser(u: { Username?: string; Attributes?: AttributeType[]; UserAttributes?: AttributeType[]; UserStatus?: string; Enabled?: boolean; UserCreateDate?: Date }): TenantUser {
  const attrs = u.Attributes ?? u.UserAttributes;
  return {
    username: u.Username ?? '', email: attr(attrs, 'email') ?? '', tenantId: attr(attrs, TENANT_ATTRIBUTE) ?? '',
    status: u.UserStatus ?? 'UNKNOWN', enabled: u.Enabled ?? true, createdAt: u.UserCreateDate?.toISOString(),
  };
}

/** A plausible email address (Cognito checks it again; this catches a swapped flag early). */
export function checkEmail(email: string): string {
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw new CliError(`--email "${email}" is not an email address: give the address the user receives the invitation at`);
  return email;
}

export interface InviteRequest {
  userPoolId: string;
  tenantId: string;
  email: string;
  /** MessageAction RESEND: mail a new temporary password to a user who has not signed in yet. @default false */
  resend?: boolean;
}

/**
 * Creates a tenant user in the platform pool (AdminCreateUser: username = email, `email`,
 * `email_verified=true`, `custom:tenant_id`; DesiredDeliveryMediums EMAIL, so Cognito mails the
 * temporary password), or with `resend` mails a new temporary password to an existing user of
 * the same tenant (MessageAction RESEND).
 * @throws CliError: the user exists already (fix: --resend), belongs to another tenant, has signed
 * in already (RESEND refused), or the call failed.
 */
export async function inviteTenantUser(cognito: CognitoIdentityProviderClient, req: InviteRequest): Promise<TenantUser> {
  const { userPoolId, tenantId, email, resend } = req;
  const flags = `--tenant ${tenantId} --email ${email}`;
  if (resend) {
    // RESEND ignores the attributes: check that the user is this tenant's before mailing them.
    const existing = await getTenantUser(cognito, userPoolId, email);
    if (!existing) throw new CliError(`no user ${email} in user pool ${userPoolId} to resend the invitation to: leave out --resend to invite them`);
    if (existing.tenantId !== tenantId) throw new CliError(`${email} belongs to tenant "${existing.tenantId || '(none)'}", not "${tenantId}": check --tenant (a user belongs to one tenant; custom:tenant_id cannot be changed)`);
    if (existing.status !== 'FORCE_CHANGE_PASSWORD') throw new CliError(`${email} has signed in already (status ${existing.status}): a new invitation is only for users who have not; they can reset their password with "Forgot password" (ForgotPassword)`, 1);
  }
  try {
    const out = await cognito.send(new AdminCreateUserCommand({
      UserPoolId: userPoolId,
      Username: email,
      UserAttributes: resend ? undefined : [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }, { Name: TENANT_ATTRIBUTE, Value: tenantId }],
      DesiredDeliveryMediums: ['EMAIL'],
      MessageAction: resend ? 'RESEND' : undefined,
    }));
    return toTenantUser(out.User ?? {});
  } catch (e) {
    const { name, message } = e as Error;
    if (name === 'UsernameExistsException') {
      const existing = await getTenantUser(cognito, userPoolId, email).catch(() => undefined);
      const owner = existing && existing.tenantId !== tenantId ? ` and belongs to tenant "${existing.tenantId || '(none)'}"` : '';
      throw new CliError(`a user ${email} exists already in user pool ${userPoolId}${owner}: to mail them a new temporary password, run tessera users invite ${flags} --resend`, 1);
    }
    if (name === 'UnsupportedUserStateException') throw new CliError(`${email} has signed in already (${message}): a new invitation is only for users who have not`, 1);
    if (name === 'InvalidParameterException' && /tenant_id|custom/i.test(message)) {
      throw new CliError(`Cognito AdminCreateUser refused custom:tenant_id (${message}): user pool ${userPoolId} is not the platform's tenant pool (it has no tenant_id attribute); pass the TenantUserPoolId output as --user-pool-id`, 2);
    }
    throw awsCallError('Cognito AdminCreateUser', e, 'check --user-pool-id and --email');
  }
}

/** A user by email (AdminGetUser accepts the email, the pool's sign-in alias), or undefined. */
export async function getTenantUser(cognito: CognitoIdentityProviderClient, userPoolId: string, email: string): Promise<TenantUser | undefined> {
  try {
    return toTenantUser(await cognito.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: email })));
  } catch (e) {
    if ((e as Error).name === 'UserNotFoundException') return undefined;
    throw awsCallError('Cognito AdminGetUser', e, 'check --user-pool-id');
  }
}

/**
 * The users of one tenant, sorted by email. ListUsers cannot filter on custom attributes (its
 * Filter takes only standard ones: username, email, phone_number, name, given_name, family_name,
 * preferred_username, cognito:user_status, status, sub — Cognito API reference, ListUsers), so
 * this pages through the pool (60 per page, ListUsers' maximum) and filters on
 * `custom:tenant_id` here. `emailPrefix` narrows the call itself (Filter `email ^= "..."`).
 */
export async function listTenantUsers(cognito: CognitoIdentityProviderClient, userPoolId: string, tenantId: string, emailPrefix?: string): Promise<TenantUser[]> {
  const users: UserType[] = [];
  let token: string | undefined;
  try {
    do {
      const page = await cognito.send(new ListUsersCommand({
        UserPoolId: userPoolId, Limit: 60, PaginationToken: token,
        Filter: emailPrefix ? `email ^= "${emailPrefix.replace(/["\\]/g, '\\$&')}"` : undefined,
      }));
      users.push(...(page.Users ?? []));
      token = page.PaginationToken;
    } while (token);
  } catch (e) {
    throw awsCallError('Cognito ListUsers', e, 'check --user-pool-id');
  }
  return users.map(toTenantUser).filter((u) => u.tenantId === tenantId).sort((a, b) => a.email.localeCompare(b.email));
}
