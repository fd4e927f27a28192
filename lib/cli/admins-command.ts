import { Command } from 'commander';

/** `tessera admins`: platform administrators (being built; see issue 13). */
export function adminsCommand(): Command {
  return new Command('admins').description('platform administrators (not built yet)');
}
