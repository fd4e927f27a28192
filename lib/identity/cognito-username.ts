/**
 * Cognito's `Username` (UsernameType) and ListUsers' `Filter`, as AdminCreateUser, AdminGetUser and ListUsers take them.
 *
 * Source: Amazon Cognito user pools API Reference, AdminCreateUser, Request Parameters, `Username`: "Must be a UTF-8
 * string between 1 and 128 characters. After the user is created, the username can't be changed. Type: String. Length
 * Constraints: Minimum length of 1. Maximum length of 128. Pattern: [\p{L}\p{M}\p{S}\p{N}\p{P}]+"; ListUsers, `Filter`:
 * "Length Constraints: Maximum length of 256". Cognito refuses a longer value with InvalidParameterException ("1 validation
 * error detected: Value at 'username' failed to satisfy constraint: Member must have length less than or equal to 128").
 * moto 5.2.5 checks neither (test/integration/support/moto-python/tessera_moto_patches.py `refuse_cognito_parameters_as_aws`
 * makes it).
 */

/** Cognito's UsernameType: 1-128 letters, marks, symbols, numbers or punctuation (no whitespace, no control characters). */
export const COGNITO_USERNAME = /^[\p{L}\p{M}\p{S}\p{N}\p{P}]{1,128}$/u;

/** The most characters of a Cognito `Username`, counted as code points (COGNITO_USERNAME's `u` flag; the same as UTF-16 units in the BMP). */
export const COGNITO_USERNAME_MAX_CHARS = 128;

/** The most characters of ListUsers' `Filter` (`email ^= "<prefix>"` included). */
export const COGNITO_LIST_FILTER_MAX_CHARS = 256;

/**
 * Why `email` cannot be the `Username` of a user of the platform's pool (Tessera makes each user with Username = its
 * address: lambdas/identity/cognito-tenant-users.ts), naming `field`, the value (cut at 100 characters) and the rule;
 * undefined when it can.
 * @param email the address
 * @param field the field it came in, named in the text (`email`, `adminEmail`)
 */
export function cognitoUsernameProblem(email: string, field: string): string | undefined {
  if (COGNITO_USERNAME.test(email)) return undefined;
  // Characters as COGNITO_USERNAME counts them (code points, its `u` flag): an address of astral characters (emoji) was
  // said to be too long in UTF-16 units (265) when the rule counts 135, and cut inside a surrogate pair (a lone \ud83d shown).
  const chars = [...email];
  const shown = JSON.stringify(chars.length > 100 ? `${chars.slice(0, 97).join('')}...` : email);
  return chars.length > COGNITO_USERNAME_MAX_CHARS
    ? `${field} = ${shown} (${chars.length} characters): a user's email is its Cognito username, and Cognito AdminCreateUser takes a Username of 1-${COGNITO_USERNAME_MAX_CHARS} characters`
    : `${field} = ${shown}: a user's email is its Cognito username, and Cognito AdminCreateUser takes a Username of letters, marks, symbols, numbers and punctuation only (no spaces or control characters)`;
}
