import { spawn } from 'node:child_process';
import { renameSync, rmSync } from 'node:fs';

/**
 * PostgreSQL settings for the embedded database. shared_buffers is allocated and written
 * inside PGlite's WebAssembly memory at start: PostgreSQL's default 128MB made ~150 MiB of
 * Herald's resident memory. 32MB measured as fast as 128MB on Herald's load (16MB was up
 * to 50 % slower on lookups); docs/performance.md "(f)".
 */
export const PGLITE_SETTINGS = ['-c', 'shared_buffers=32MB'];

/**
 * Makes a new PGlite data directory in a short-lived child process, then moves it into
 * place. PGlite's initdb runs a second PostgreSQL instance and keeps a 128 MiB copy of its
 * memory: run in Herald's process it peaked at ~800 MiB and ~150 MiB of that was never
 * given back. The child is gone after the few seconds initdb takes. Runs under the data
 * directory's lock; a directory half made by a killed child is made again.
 */
export async function initdbInChildProcess(dir: string): Promise<void> {
  const tmp = `${dir}.init`;
  rmSync(tmp, { recursive: true, force: true });
  const pglite = import.meta.resolve('@electric-sql/pglite');
  const code =
    `const { PGlite } = await import(${JSON.stringify(pglite)});\n` +
    `await (await PGlite.create(${JSON.stringify(tmp)}, { initDbStartParams: ${JSON.stringify(PGLITE_SETTINGS)} })).close();`;
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 4096) stderr += d.toString();
    });
    child.on('error', reject);
    child.on('exit', (c, sig) => (c === 0 ? resolve() : reject(new Error(`PGlite initdb failed (${sig ?? `exit ${c}`}): ${stderr.trim()}`))));
  });
  renameSync(tmp, dir);
}
