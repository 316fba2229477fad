// herald-webhooks as a user installs it: `npm pack` of the workspace, installed into an
// empty project, imported by plain Node (no TypeScript loader), verifying a request signed
// as Herald signs it. (The package is built by `npm run build`, which `npm ci` runs.)
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { pusherEnvelope } from '../../src/domain/delivery-request.js';
import { signRequest } from '../../src/delivery/envelopes.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('herald-webhooks, packed and installed', { skip: existsSync(join(ROOT, 'packages/webhooks/dist/index.js')) ? false : 'not built: npm run build' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-sdk-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('installs from its tarball and verifies a signed request in plain Node', () => {
    execFileSync('npm', ['pack', '-w', 'herald-webhooks', '--pack-destination', dir], { cwd: ROOT, stdio: 'pipe' });
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
    const app = join(dir, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--offline', join(dir, tarball)], { cwd: app, stdio: 'pipe' });

    const key = 'k'.repeat(64);
    const env = pusherEnvelope({ organizationUuid: 'o', eventName: 'ProductCreated', messageId: 'm', payload: { uuid: 'p' }, timestamp: new Date() });
    const headers = signRequest(env, key, new Date());
    writeFileSync(
      join(app, 'check.mjs'),
      `import { verifyDelivery } from 'herald-webhooks';
       const d = await verifyDelivery(${JSON.stringify(env.body)}, ${JSON.stringify(headers)}, { keys: ${JSON.stringify(key)} });
       console.log(JSON.stringify({ scheme: d.scheme, eventName: d.eventName, payload: d.payload }));`,
    );
    const out = execFileSync(process.execPath, ['check.mjs'], { cwd: app, encoding: 'utf8' });
    assert.deepEqual(JSON.parse(out), { scheme: 'standard-webhooks', eventName: 'ProductCreated', payload: { uuid: 'p' } });
  });
});
