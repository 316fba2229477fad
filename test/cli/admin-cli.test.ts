// The admin CLI as an operator runs it: `herald org|key ...` processes against a
// running `herald serve` process, with the defaults (URL from HOST/PORT, admin token
// from the data dir) and with explicit flags. Needs the build (npm run build).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, runHerald, waitForHttp, type HeraldProcess } from '../helpers/process.js';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

interface Run {
  code: number | null;
  out: string;
}

async function cli(args: string[], env: Record<string, string>): Promise<Run> {
  const p = runHerald(args, env);
  const code = await p.exited;
  return { code, out: p.output() };
}

describe('herald org / key (admin CLI)', () => {
  let server: HeraldProcess;
  let dataDir: string;
  let port: number;
  let env: Record<string, string>;
  const secrets: string[] = [];

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'herald-admin-cli-'));
    port = await freePort();
    server = runHerald(['serve'], { PORT: String(port), HERALD_DATA_DIR: dataDir, HERALD_LOG_LEVEL: 'trace' });
    await waitForHttp(`http://127.0.0.1:${port}/readyz`, undefined, server);
    // What an operator on the same machine has: the same HOST/PORT/data dir settings.
    env = { PORT: String(port), HERALD_DATA_DIR: dataDir };
  });

  after(async () => {
    if (server.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates an organization and a key against the running server; the key reads GET /users/self', async () => {
    const org = await cli(['org', 'create', '--name', 'Acme', '--json'], env);
    assert.equal(org.code, 0, org.out);
    const { organizationUuid, name } = JSON.parse(org.out) as { organizationUuid: string; name: string };
    assert.equal(name, 'Acme');

    const key = await cli(['key', 'create', '--org', organizationUuid, '--scopes', 'READ:PRODUCT,READ:PURCHASE', '--json'], env);
    assert.equal(key.code, 0, key.out);
    const created = JSON.parse(key.out) as { apiKey: string; apiKeyId: string; userUuid: string; scopes: string[]; livemode: boolean };
    secrets.push(created.apiKey);
    assert.deepEqual(created.scopes, ['READ:PRODUCT', 'READ:PURCHASE']);
    assert.equal(created.livemode, true);

    const me = await fetch(`http://127.0.0.1:${port}/users/self`, { headers: { authorization: `Bearer ${created.apiKey}` } });
    assert.equal(me.status, 200);
    assert.deepEqual(await me.json(), { uuid: created.userUuid, organizationUuid });

    // And through an access token minted from it.
    const t = await fetch(`http://127.0.0.1:${port}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: JWT_BEARER, client_id: 'cli-test', assertion: created.apiKey }),
    });
    const { access_token } = (await t.json()) as { access_token: string };
    secrets.push(access_token);
    const viaToken = await fetch(`http://127.0.0.1:${port}/users/self`, { headers: { authorization: `Bearer ${access_token}` } });
    assert.deepEqual(await viaToken.json(), { uuid: created.userUuid, organizationUuid });
  });

  it('prints readable text without --json, lists keys without secrets, and revokes', async () => {
    const org = await cli(['org', 'create', '--name', 'Globex'], env);
    assert.equal(org.code, 0, org.out);
    assert.match(org.out, /^Created organization "Globex"\n {2}organizationUuid {2}[0-9a-f-]{36}\n$/);
    const organizationUuid = /organizationUuid {2}([0-9a-f-]{36})/.exec(org.out)![1]!;

    const key = await cli(
      ['key', 'create', '--org', organizationUuid, '--scopes', 'READ:FINANCE', '--name', 'reporting', '--test-mode'],
      env,
    );
    assert.equal(key.code, 0, key.out);
    assert.match(key.out, /Created API key "reporting" for organization/);
    assert.match(key.out, /mode {6}test/);
    assert.match(key.out, /Herald keeps only its hash and cannot show it again/);
    const apiKey = /apiKey {4}(\S+)/.exec(key.out)![1]!;
    assert.equal(apiKey.split('.').length, 3, 'a JWT');
    const apiKeyId = /apiKeyId {2}([0-9a-f-]{36})/.exec(key.out)![1]!;
    secrets.push(apiKey);

    const list = await cli(['key', 'list', '--org', organizationUuid], env);
    assert.equal(list.code, 0, list.out);
    assert.ok(list.out.includes(apiKeyId));
    assert.ok(list.out.includes(`…${apiKey.slice(-12)}`), 'the listing shows the end of the key');
    assert.ok(!list.out.includes(apiKey), 'a listing never shows the secret');
    assert.match(list.out, /test {2}READ:FINANCE {2}reporting/);

    const orgs = await cli(['org', 'list', '--json'], env);
    assert.ok((JSON.parse(orgs.out) as { organizationUuid: string }[]).some((o) => o.organizationUuid === organizationUuid));

    const del = await cli(['key', 'delete', '--org', organizationUuid, '--key', apiKeyId], env);
    assert.equal(del.code, 0, del.out);
    assert.equal(del.out, `Revoked API key ${apiKeyId}\n`);
    const me = await fetch(`http://127.0.0.1:${port}/users/self`, { headers: { authorization: `Bearer ${apiKey}` } });
    assert.equal(me.status, 401);
    assert.equal((await cli(['key', 'list', '--org', organizationUuid], env)).out, 'No API keys.\n');
  });

  it('takes --url and --admin-token (or HERALD_ADMIN_TOKEN) instead of the defaults', async () => {
    const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    const url = `http://127.0.0.1:${port}`;
    const flags = await cli(['org', 'create', '--name', 'Flags', '--url', url, '--admin-token', token, '--json'], {});
    assert.equal(flags.code, 0, flags.out);
    const fromEnv = await cli(['org', 'list', '--url', url], { HERALD_ADMIN_TOKEN: token });
    assert.equal(fromEnv.code, 0, fromEnv.out);
    assert.match(fromEnv.out, /Flags/);
  });

  it('exits 1 with the server error when the server refuses, or cannot be reached', async () => {
    const org = JSON.parse((await cli(['org', 'create', '--name', 'Errors', '--json'], env)).out) as { organizationUuid: string };
    const bad = await cli(['key', 'create', '--org', org.organizationUuid, '--scopes', 'READ:PRODUCT,READ:NOPE'], env);
    assert.equal(bad.code, 1);
    assert.match(bad.out, /herald: 400 VALIDATION_ERROR: unknown scope "READ:NOPE"/);

    const wrongToken = await cli(['org', 'list', '--admin-token', 'not-the-admin-token-at-all-0000'], env);
    assert.equal(wrongToken.code, 1);
    assert.match(wrongToken.out, /herald: 401 UNAUTHORIZED: invalid admin token/);

    const noOrg = await cli(['key', 'list', '--org', '5a1f0000-0000-11f1-8000-000000000000'], env);
    assert.equal(noOrg.code, 1);
    assert.match(noOrg.out, /404 ORGANIZATION_NOT_FOUND/);

    const closed = await freePort();
    const down = await cli(['org', 'list', '--url', `http://127.0.0.1:${closed}`], env);
    assert.equal(down.code, 1);
    assert.match(down.out, /cannot reach Herald at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
  });

  it('exits 2 on bad usage', async () => {
    const cases: [string[], RegExp][] = [
      [['key', 'create', '--scopes', 'READ:PRODUCT'], /missing --org/],
      [['key', 'create', '--org', 'x'], /missing --scopes/],
      [['key', 'delete', '--org', 'x'], /missing --key/],
      [['org', 'create'], /missing --name/],
      [['key', 'create', '--org', 'x', '--scopes', 'READ:PRODUCT', '--bogus'], /Unknown option '--bogus'/],
      [['key', 'frobnicate'], /unknown key command "frobnicate"/],
      [['org', 'create', '--name', 'x', '--url', 'not a url'], /--url must be an http\(s\) URL/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args, env);
      assert.equal(r.code, 2, `${args.join(' ')}\n${r.out}`);
      assert.match(r.out, message);
    }
    const noToken = await cli(['org', 'list'], { HERALD_DATA_DIR: join(dataDir, 'nowhere') });
    assert.equal(noToken.code, 2);
    assert.match(noToken.out, /no admin token/);
    const help = await cli(['key', '--help'], {});
    assert.equal(help.code, 0);
    assert.match(help.out, /herald key create --org UUID --scopes/);
  });

  it('the server log holds none of the secrets it handled', () => {
    assert.ok(secrets.length >= 3);
    const log = server.output();
    assert.ok(log.length > 0);
    for (const s of secrets) assert.ok(!log.includes(s), 'a secret reached the log');
  });
});
