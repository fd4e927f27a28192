import { exitQuietlyWhenReaderCloses } from '../lib/cli/closed-reader.js';
import { runTesseraProgram } from '../lib/cli/program.js';

// `tessera … | head -1`: the reader closing the pipe ends the CLI quietly (lib/cli/closed-reader.ts).
exitQuietlyWhenReaderCloses(process.stdout);
exitQuietlyWhenReaderCloses(process.stderr);

// process.exit, not exitCode: a failed command may leave a socket or a timer that would keep it running.
const code = await runTesseraProgram(process.argv.slice(2));
if (code !== 0) process.exit(code);
