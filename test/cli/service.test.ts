// The shipped CLI as a user runs it: real processes, real ports, real data dirs.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createPostgresDatabase } from '../helpers/db.js';
import { freePort, HERALD_BIN, runHerald, waitForHttp, type HeraldProcess } from '../helpers/process.js';

const running: HeraldProcess[] = [];
const dirs: string[] = [];
after(async () => {
  for (const p of running) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'herald-cli-'));
  dirs.push(d);
  return d;
}

describe('herald CLI', () => {
  it('exits 2 naming the setting when a config value is bad', async () => {
    const p = runHerald(['serve'], { PORT: 'not-a-port', HERALD_DATA_DIR: tempDir() });
    assert.equal(await p.exited, 2);
    assert.match(p.output(), /PORT: must be an integer/);
  });

  it('--help on a service command prints its help and does nothing else; any other flag is exit 2', async () => {
    for (const command of ['serve', 'api', 'worker', 'migrate', 'reseal']) {
      const dataDir = tempDir();
      const p = runHerald([command, '--help'], { HERALD_DATA_DIR: dataDir, PORT: String(await freePort()) });
      assert.equal(await p.exited, 0, p.output());
      assert.match(p.output(), new RegExp(`Usage: herald ${command}`));
      assert.deepEqual(readdirSync(dataDir), [], `herald ${command} --help touched the data dir`);
      const bad = runHerald([command, '--bogus'], { HERALD_DATA_DIR: dataDir });
      assert.equal(await bad.exited, 2);
      assert.match(bad.output(), /Unknown option '--bogus'/);
      assert.deepEqual(readdirSync(dataDir), []);
    }
  });

  it('runs as `npx herald` from the checkout, as the README says', () => {
    const out = execFileSync('npx', ['--no-install', 'herald', '--version'], { cwd: new URL('../..', import.meta.url), encoding: 'utf8' });
    assert.match(out.trim(), /^\d+\.\d+\.\d+$/);
  });

  it('exits 2 on an unknown command', async () => {
    const p = runHerald(['frobnicate'], {});
    assert.equal(await p.exited, 2);
    assert.match(p.output(), /unknown command "frobnicate"/);
  });

  it('serves on the embedded database, generates an admin token without logging it, and stops on SIGTERM', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const p = runHerald(['serve'], { PORT: String(port), HERALD_DATA_DIR: dataDir });
    running.push(p);
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, undefined, p);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    assert.deepEqual(await ready.json(), { status: 'ready', database: 'pglite' });

    const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    assert.ok(token.length >= 32);
    assert.equal(statSync(join(dataDir, 'admin-token')).mode & 0o777, 0o600);
    assert.ok(!p.output().includes(token), 'the admin token must never appear in the log');
    assert.match(p.output(), /read it with: cat .*admin-token/);

    // A second process on the same data dir gets a clear error, not a corrupt database.
    const second = runHerald(['serve'], { PORT: String(await freePort()), HERALD_DATA_DIR: dataDir });
    assert.equal(await second.exited, 1);
    assert.match(second.output(), /in use by another Herald process/);

    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0);
    assert.match(p.output(), /"msg":"stopped"/);

    // After a clean stop the data dir is free again and keeps its token and schema.
    const again = runHerald(['serve'], { PORT: String(port), HERALD_DATA_DIR: dataDir });
    running.push(again);
    await waitForHttp(`http://127.0.0.1:${port}/readyz`, undefined, again);
    assert.match(again.output(), /database schema up to date/);
    assert.ok(!again.output().includes('admin token generated'));
    again.child.kill('SIGTERM');
    assert.equal(await again.exited, 0);
  });

  it('takes over the lock of a process that was killed', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const p = runHerald(['serve'], { PORT: String(port), HERALD_DATA_DIR: dataDir });
    running.push(p);
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, undefined, p);
    p.child.kill('SIGKILL');
    await p.exited;
    const q = runHerald(['serve'], { PORT: String(port), HERALD_DATA_DIR: dataDir });
    running.push(q);
    await waitForHttp(`http://127.0.0.1:${port}/readyz`, undefined, q);
    q.child.kill('SIGTERM');
    assert.equal(await q.exited, 0);
  });

  // In containers every process may be pid 1: two Herald containers on one volume each
  // took the old pid-file lock as their own. Two PID namespaces reproduce it.
  const canUnshare = (() => {
    if (process.getuid?.() !== 0) return false;
    try {
      execFileSync('unshare', ['-fp', '--mount-proc', 'true'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  it(
    'a process in another PID namespace (pid 1 in both) cannot take the data dir of a running one',
    { skip: canUnshare ? false : 'needs root and unshare -fp to make PID namespaces' },
    async () => {
      const dataDir = tempDir();
      const port = await freePort();
      const inNamespace = (env: Record<string, string>) => {
        // --kill-child: if unshare is killed, the Herald it forked goes too.
        const child = spawn('unshare', ['-fp', '--mount-proc', '--kill-child', process.execPath, HERALD_BIN, 'serve'], {
          env: { PATH: process.env.PATH ?? '', HERALD_LOG_FORMAT: 'json', ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
        return { child, output: () => out, exited };
      };
      const first = inNamespace({ PORT: String(port), HERALD_DATA_DIR: dataDir });
      running.push(first);
      await waitForHttp(`http://127.0.0.1:${port}/healthz`, undefined, first);
      assert.match(first.output(), /"pid":1[,}]/, 'the first Herald is pid 1 in its namespace');
      const secondPort = await freePort();
      const second = inNamespace({ PORT: String(secondPort), HERALD_DATA_DIR: dataDir });
      running.push(second);
      // Either it exits (refused), or it comes up on the same files: the split brain.
      const outcome = await Promise.race([
        second.exited.then((code) => ({ exited: code })),
        waitForHttp(`http://127.0.0.1:${secondPort}/healthz`, undefined, second).then(
          () => ({ exited: 'it started: both processes own the data dir' as const }),
          () => new Promise<never>(() => {}), // it exited: the other branch answers
        ),
      ]);
      assert.equal(outcome.exited, 1, second.output());
      assert.match(second.output(), /in use by another Herald process/);
      assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200, 'the first one is unharmed');
      // unshare does not pass SIGTERM on: stop the Herald it forked (pid 1 inside, a plain pid here).
      execFileSync('pkill', ['-TERM', '-P', String(first.child.pid)]);
      assert.equal(await first.exited, 0);
    },
  );

  it('serves on PostgreSQL when DATABASE_URL is set', { skip: !process.env.HERALD_TEST_DATABASE_URL }, async () => {
    const created = await createPostgresDatabase();
    try {
      const port = await freePort();
      // Without an encryption key, PostgreSQL is refused: processes share no data dir.
      const keyless = runHerald(['serve'], { PORT: String(port), DATABASE_URL: created.url, HERALD_DATA_DIR: tempDir() });
      assert.equal(await keyless.exited, 2);
      assert.match(keyless.output(), /HERALD_ENCRYPTION_KEY: required with DATABASE_URL/);
      const key = randomBytes(32).toString('base64');
      const env = { PORT: String(port), DATABASE_URL: created.url, HERALD_DATA_DIR: tempDir(), HERALD_ENCRYPTION_KEY: key };
      const p = runHerald(['serve'], env);
      running.push(p);
      await waitForHttp(`http://127.0.0.1:${port}/healthz`, undefined, p);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      assert.deepEqual(await ready.json(), { status: 'ready', database: 'postgres' });
      // No token set on PostgreSQL: the admin API is off, and says so.
      const admin = await fetch(`http://127.0.0.1:${port}/admin/organizations`, { method: 'POST' });
      assert.equal(admin.status, 401);
      assert.equal(((await admin.json()) as { errorType: string }).errorType, 'ADMIN_API_DISABLED');
      // Any JWT-shaped token makes Herald load (here: create) its access-token key.
      const probe = await fetch(`http://127.0.0.1:${port}/users/self`, { headers: { authorization: 'Bearer eyJhbGciOiJFUzI1NiJ9.e30.x' } });
      assert.equal(probe.status, 401);
      p.child.kill('SIGTERM');
      assert.equal(await p.exited, 0);
      assert.ok(!p.output().includes(key), 'the encryption key must never appear in the log');

      // Rotation's last step: reseal under a new key, reading with the old one.
      const next = randomBytes(32).toString('base64');
      const reseal = runHerald(['reseal'], { ...env, HERALD_ENCRYPTION_KEY: next, HERALD_PREVIOUS_ENCRYPTION_KEYS: key });
      assert.equal(await reseal.exited, 0, reseal.output());
      assert.match(reseal.output(), /resealed under key [0-9a-f]{16}: 0 subscription signing key\(s\), 1 token signing key\(s\)/);
      // Now the old key alone cannot open them, and says which key it lacks.
      const stale = runHerald(['reseal'], env);
      assert.equal(await stale.exited, 1);
      assert.match(stale.output(), /sealed with encryption key [0-9a-f]{16}, which this process does not have/);
    } finally {
      await created.drop();
    }
  });

  it('herald migrate applies the schema and exits 0', async () => {
    const p = runHerald(['migrate'], { HERALD_DATA_DIR: tempDir() });
    assert.equal(await p.exited, 0);
    assert.match(p.output(), /applied: 001_identity/);
  });
});
