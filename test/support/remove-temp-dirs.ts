import { afterAll } from 'vitest';
import { removeTempDirs } from './temp-dirs.js';

// Setup file of every test file (vitest.config.ts): its temp dirs go when the file is done.
// Registered first, so it runs after the file's own afterAll hooks (which may still use them).
afterAll(removeTempDirs);
