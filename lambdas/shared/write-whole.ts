import { randomBytes } from 'node:crypto';
import { rename, writeFile } from 'node:fs/promises';

/**
 * Writes `file` whole: `data` goes to a temporary file beside it (`<file>.<random>.tmp`, the same directory, so the
 * same file system), which is then renamed over it. POSIX rename replaces the name in one step: a reader (another
 * worker thread of `tessera serve`, another process) sees the old file or the new one, never a part.
 * @throws what writeFile or rename throw (ENOENT when the directory does not exist); a failed write leaves the temp file
 */
export async function writeWhole(file: string, data: string | Uint8Array): Promise<void> {
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temp, data);
  await rename(temp, file);
}
