import { Command } from 'commander';

/** `tessera users` and `tessera login`: tenant users in the platform's Cognito pool (being built; see issue 13). */
export function usersCommand(): Command {
  return new Command('users').description('tenant users (not built yet)');
}

export function loginCommand(): Command {
  return new Command('login').description('sign in as a tenant user and print a token (not built yet)')
    .action(() => { throw new Error('tessera login is not built yet'); });
}
