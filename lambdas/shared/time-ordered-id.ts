import { randomBytes } from 'node:crypto';

/**
 * A time-ordered id: `prefix`, 12 hex digits of milliseconds since the epoch, then 12 random hex digits (as job ids):
 * sorting by id sorts by creation. File ids (`file-`), the Uploads API's upload and part ids (`upload_`, `part_`),
 * vector store and file batch ids (`vs_`, `vsfb_`).
 */
export const newTimeOrderedId = (prefix: string) => `${prefix}${Date.now().toString(16).padStart(12, '0')}${randomBytes(6).toString('hex')}`;
