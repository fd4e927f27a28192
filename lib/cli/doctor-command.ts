import { Command } from 'commander';

/** `tessera doctor`: read-only checks of every deploy prerequisite (being built; see issue 13). */
export function doctorCommand(): Command {
  return new Command('doctor').description('check the deploy prerequisites with read-only AWS calls (not built yet)')
    .action(() => { throw new Error('tessera doctor is not built yet'); });
}
