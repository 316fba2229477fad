// Herald as its peers are installed (issue 10): `npm pack` of this repository, installed
// into an empty project from the tarball (dependencies from the npm cache that `npm ci`
// filled), then `npx herald` there: its version, and its migrations applied to a fresh
// embedded database. Needs the build (npm run build), which the tarball ships.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('herald, packed and installed', { skip: existsSync(join(ROOT, 'dist/cli/main.js')) ? false : 'not built: npm run build' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-pack-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('installs from its tarball; npx herald runs there and migrates a fresh database', () => {
    // The build is there already (npm ci ran it); --ignore-scripts packs it as it is.
    execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, stdio: 'pipe' });
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
    const app = join(dir, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--omit=dev', join(dir, tarball)], { cwd: app, stdio: 'pipe' });

    const version = execFileSync('npx', ['--no-install', 'herald', '--version'], { cwd: app, encoding: 'utf8' }).trim();
    assert.match(version, /^\d+\.\d+\.\d+/);
    const migrated = execFileSync('npx', ['--no-install', 'herald', 'migrate'], {
      cwd: app,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', HERALD_DATA_DIR: join(dir, 'data'), HOME: process.env.HOME ?? dir },
    });
    assert.match(migrated, /applied: 001_identity.*014_event_trace_context/s);
  });
});
