import { Command } from 'commander';

/** `tessera init`: writes a commented tessera.config.yaml (being built; see issue 13). */
export function initCommand(): Command {
  return new Command('init').description('write a commented tessera.config.yaml (not built yet)')
    .action(() => { throw new Error('tessera init is not built yet'); });
}
