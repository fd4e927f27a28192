import { appendFileSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { forkedDriverCpuSeconds } from './python-zygote.js';

/**
 * One test file's cost in its worker process, for `TESSERA_TEST_CPU_LOG` (test/support/test-setup.ts):
 * wall and CPU seconds from the worker's start (so including vitest's worker startup and the file's
 * imports) to its last afterAll hook. CPU is user + system of the worker itself, and of the child
 * processes it waited for (moto servers, CLIs, Python clients; Linux /proc/self/stat `cutime` and
 * `cstime`, 0 elsewhere), and of the moto servers and the Python client drivers the run's zygotes forked for it. With
 * `isolate: false` a worker runs several files: each file's figures
 * count from the end of the previous one.
 */
export interface FileCpu {
  file: string;
  wallSeconds: number;
  cpuSeconds: number;
  /** Includes {@link FileCpu.driverCpuSeconds}. */
  childCpuSeconds: number;
  /** The Python client drivers the run's zygotes forked for the file (python-zygote.ts forkedDriverCpuSeconds). */
  driverCpuSeconds: number;
  /** The worker process: files with the same pid shared it, in the order of their lines. */
  pid: number;
}

const TICKS_PER_SECOND = 100; // USER_HZ, 100 on Linux x86-64 and arm64

/**
 * CPU of moto servers the run's zygote forked for this process, added up by their stop()
 * (test/integration/support/moto-server.ts forkedMotoCpuSeconds, kept on the process under this
 * symbol): their parent is the zygote, so they are not in this process's cutime.
 */
const FORKED_MOTO_CPU = Symbol.for('tessera.motoForkedCpuSeconds');

function childCpuSeconds(drivers: number): number {
  const forked = ((process as unknown as Record<symbol, number | undefined>)[FORKED_MOTO_CPU] ?? 0) + drivers;
  try {
    // Fields after the command name (in parentheses, may hold spaces): state is field 3, cutime 16, cstime 17.
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND + forked;
  } catch {
    return forked;
  }
}

// Kept on the process, not in this module: project `shared-reset` re-evaluates test helpers for
// every file (test/support/file-state.ts), and each file's figures count from the previous file's end.
const PREVIOUS = Symbol.for('tessera.cpuLog.previous');
const processState = process as unknown as Record<symbol, { wall: number; cpu: number; child: number; drivers: number } | undefined>;

/** Appends `file`'s figures as one JSON line to `logFile`. */
export function logFileCpu(logFile: string, file: string): void {
  const usage = process.cpuUsage();
  const drivers = forkedDriverCpuSeconds();
  const now = { wall: process.uptime(), cpu: (usage.user + usage.system) / 1e6, child: childCpuSeconds(drivers), drivers };
  const previous = processState[PREVIOUS] ?? { wall: 0, cpu: 0, child: 0, drivers: 0 };
  const line: FileCpu = {
    file: relative(process.cwd(), file),
    wallSeconds: Number((now.wall - previous.wall).toFixed(3)),
    cpuSeconds: Number((now.cpu - previous.cpu).toFixed(3)),
    childCpuSeconds: Number((now.child - previous.child).toFixed(2)),
    driverCpuSeconds: Number((now.drivers - previous.drivers).toFixed(2)),
    pid: process.pid,
  };
  processState[PREVIOUS] = now;
  appendFileSync(logFile, `${JSON.stringify(line)}\n`);
}
