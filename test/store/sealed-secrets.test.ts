import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, type JWK } from 'jose';
import { v1 as uuidv1 } from 'uuid';
import { ConfigError, loadConfig, parseEncryptionKey } from '../../src/config.js';
import { encryptionKeyId, SecretBox, SecretCorruptError, SecretUnavailableError } from '../../src/domain/sealed-secrets.js';
import { encryptionKeyPath, resolveSecretBox } from '../../src/runtime/encryption-key.js';
import { makePgliteDb } from '../../src/store/pglite-db.js';
import { testDatabases, type TestDatabase } from '../helpers/db.js';
import { startTestHerald, type TestHerald } from '../helpers/herald.js';
import { asCredential, createCredential } from '../helpers/identity.js';
import { startReceiver, type TestReceiver } from '../helpers/receiver.js';
import { checkPusherRequest } from '../helpers/webhooks.js';
import { storeRowsAsText } from '../helpers/store-contents.js';

describe('SecretBox', () => {
  const keyA = randomBytes(32);
  const keyB = randomBytes(32);

  it('seals so that only the key opens, with a new IV every time, naming the key', () => {
    const box = new SecretBox(keyA);
    const a = box.seal('the signing key', 'subscription-signing-key');
    const b = box.seal('the signing key', 'subscription-signing-key');
    assert.notEqual(a, b);
    assert.ok(a.startsWith(`sealed:v1:${encryptionKeyId(keyA)}:`), a);
    assert.ok(!a.includes('the signing key'));
    assert.equal(box.open(a, 'subscription-signing-key'), 'the signing key');
    assert.equal(box.open(b, 'subscription-signing-key'), 'the signing key');
  });

  it('refuses a value sealed for another purpose, or altered', () => {
    const box = new SecretBox(keyA);
    const sealed = box.seal('secret', 'subscription-signing-key');
    assert.throws(() => box.open(sealed, 'token-signing-key'), SecretCorruptError);
    const raw = Buffer.from(sealed.split(':')[3]!, 'base64url');
    raw[14] = raw[14]! ^ 1;
    const altered = `${sealed.split(':').slice(0, 3).join(':')}:${raw.toString('base64url')}`;
    assert.throws(() => new SecretBox(keyA).open(altered, 'subscription-signing-key'), SecretCorruptError);
  });

  it('names a key it does not have, opens with a previous key, and reseals under the current one', () => {
    const sealedA = new SecretBox(keyA).seal('secret', 'token-signing-key');
    assert.throws(
      () => new SecretBox(keyB).open(sealedA, 'token-signing-key'),
      (err: unknown) => err instanceof SecretUnavailableError && err.message.includes(encryptionKeyId(keyA)),
    );
    const rotated = new SecretBox(keyB, [keyA]);
    assert.equal(rotated.open(sealedA, 'token-signing-key'), 'secret');
    assert.equal(rotated.isCurrent(sealedA), false);
    const resealed = rotated.reseal(sealedA, 'token-signing-key');
    assert.equal(rotated.isCurrent(resealed), true);
    assert.equal(new SecretBox(keyB).open(resealed, 'token-signing-key'), 'secret');
  });

  it('reads a value stored before sealing existed as it is', () => {
    assert.equal(new SecretBox(keyA).open('AbC123plain', 'subscription-signing-key'), 'AbC123plain');
    assert.equal(new SecretBox(keyA).isCurrent('AbC123plain'), false);
  });

  it('takes keys as 64 hex digits or base64 of 32 bytes, and nothing else', () => {
    assert.deepEqual(parseEncryptionKey(keyA.toString('hex')), keyA);
    assert.deepEqual(parseEncryptionKey(keyA.toString('base64')), keyA);
    assert.deepEqual(parseEncryptionKey(keyA.toString('base64url')), keyA);
    assert.deepEqual(parseEncryptionKey(` ${keyA.toString('base64')}\n`), keyA);
    for (const bad of ['', 'short', randomBytes(16).toString('base64'), randomBytes(33).toString('hex'), 'x'.repeat(44)]) {
      assert.throws(() => parseEncryptionKey(bad), /32 random bytes/, bad);
    }
    assert.throws(() => loadConfig({ HERALD_ENCRYPTION_KEY: 'not a key' }), ConfigError);
    assert.throws(() => loadConfig({ HERALD_PREVIOUS_ENCRYPTION_KEYS: `${keyA.toString('hex')},nope` }), /item 2/);
    assert.deepEqual(loadConfig({ HERALD_PREVIOUS_ENCRYPTION_KEYS: `${keyA.toString('hex')}, ${keyB.toString('base64')}` }).previousEncryptionKeys, [keyA, keyB]);
  });
});

describe('the encryption key in force', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'herald-key-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is required with DATABASE_URL', () => {
    assert.throws(
      () => resolveSecretBox({ databaseUrl: 'postgres://h@127.0.0.1/h', dataDir: dir, encryptionKey: undefined, previousEncryptionKeys: [] }),
      (err: unknown) => err instanceof ConfigError && /HERALD_ENCRYPTION_KEY: required with DATABASE_URL/.test(err.message),
    );
  });

  it('on the embedded database, is generated once into the data dir (0600) and kept', () => {
    const first = resolveSecretBox({ databaseUrl: undefined, dataDir: dir, encryptionKey: undefined, previousEncryptionKeys: [] });
    assert.equal(first.generatedAt, encryptionKeyPath(dir));
    assert.equal(statSync(encryptionKeyPath(dir)).mode & 0o777, 0o600);
    const again = resolveSecretBox({ databaseUrl: undefined, dataDir: dir, encryptionKey: undefined, previousEncryptionKeys: [] });
    assert.equal(again.generatedAt, undefined);
    assert.equal(again.box.currentKeyId, first.box.currentKeyId);
    // Set HERALD_ENCRYPTION_KEY later: the kept key still reads what it sealed.
    const sealed = first.box.seal('s', 'subscription-signing-key');
    const configured = resolveSecretBox({ databaseUrl: undefined, dataDir: dir, encryptionKey: randomBytes(32), previousEncryptionKeys: [] });
    assert.notEqual(configured.box.currentKeyId, first.box.currentKeyId);
    assert.equal(configured.box.open(sealed, 'subscription-signing-key'), 's');
  });
});

/** Every secret a Herald holds after a key, a token and a subscription were made. */
interface Secrets {
  encryptionKey: Buffer;
  apiKey: string;
  accessToken: string;
  signingKey: string;
  /** Private parts of the token signing keys (ES256 d; RSA d, p, q...). */
  privateJwkParts: string[];
}

async function makeSecrets(h: TestHerald, receiver: TestReceiver): Promise<{ secrets: Secrets; subscriptionUuid: string }> {
  const cred = await createCredential(h, ['READ:PRODUCT', 'WRITE:PRODUCT']);
  const token = await h.request('/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', client_id: uuidv1(), assertion: cred.apiKey }),
  });
  assert.equal(token.status, 200, await token.clone().text());
  const { access_token: accessToken } = (await token.json()) as { access_token: string };
  const subscriptionUuid = uuidv1();
  const res = await asCredential(h, { ...cred, auth: `Bearer ${accessToken}` })('POST', '/organizations/self/subscriptions', {
    uuid: subscriptionUuid,
    transportName: 'WEBHOOK',
    eventNames: ['ProductCreated'],
    destination: receiver.url,
    contactEmail: 'hooks@example.com',
  });
  assert.equal(res.status, 200, await res.clone().text());
  const { signingKey } = (await res.json()) as { signingKey: string };
  // The private halves, opened with the key the test gave Herald.
  const box = new SecretBox(h.config.encryptionKey!);
  const rows = await h.db.query<{ private_jwk: string }>('select private_jwk from token_signing_keys');
  assert.equal(rows.rows.length, 2, 'an access-token key and an API-key key');
  const privateJwkParts = rows.rows.flatMap((r) => {
    const jwk = JSON.parse(box.open(r.private_jwk, 'token-signing-key')) as JWK;
    return [jwk.d, jwk.p, jwk.q, jwk.dp, jwk.dq, jwk.qi].filter((v): v is string => typeof v === 'string');
  });
  assert.ok(privateJwkParts.length >= 4);
  return {
    secrets: { encryptionKey: h.config.encryptionKey!, apiKey: cred.apiKey, accessToken, signingKey, privateJwkParts },
    subscriptionUuid,
  };
}

/** The secret strings that must not appear in a dump, by name. */
function secretStrings(s: Secrets): [string, string][] {
  return [
    ['subscription signing key', s.signingKey],
    ['API key', s.apiKey],
    ['API key signature', s.apiKey.split('.')[2] ?? s.apiKey],
    ['access token signature', s.accessToken.split('.')[2]!],
    ['encryption key (base64)', s.encryptionKey.toString('base64')],
    ['encryption key (hex)', s.encryptionKey.toString('hex')],
    ...s.privateJwkParts.map((p, i): [string, string] => [`token signing key private part ${i}`, p]),
  ];
}

function assertNoSecret(dump: string, s: Secrets, where: string): void {
  for (const [name, value] of secretStrings(s)) {
    assert.ok(!dump.includes(value), `${where} holds the ${name}`);
  }
}

function filesAsText(dir: string): string {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .map((path) => readFileSync(path).toString('latin1'))
    .join('\n');
}

const pgDumpAvailable = (() => {
  try {
    execFileSync('pg_dump', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** The embedded database on disk, so that its files can be read as a backup would. */
function pgliteOnDisk(dir: string): TestDatabase {
  return {
    name: 'pglite on disk',
    async open() {
      const db = await makePgliteDb(dir);
      return { db, dispose: () => db.close() };
    },
  } as unknown as TestDatabase;
}

for (const backend of testDatabases()) {
  describe(`secrets at rest: ${backend.name}`, () => {
    let receiver: TestReceiver;
    before(async () => (receiver = await startReceiver()));
    after(() => receiver.close());

    it('a dump of the database holds no secret, and the API still hands out the signing key', async (t) => {
      const diskDir = backend.name === 'pglite' ? mkdtempSync(join(tmpdir(), 'herald-dump-')) : undefined;
      const h = await startTestHerald(diskDir ? pgliteOnDisk(diskDir) : backend);
      try {
        const { secrets, subscriptionUuid } = await makeSecrets(h, receiver);
        assert.match(secrets.signingKey, /^[A-Za-z0-9]{64}$/);
        const logical = await storeRowsAsText(h.db);
        assert.ok(logical.includes(subscriptionUuid) && logical.includes('sealed:v1:'), 'the dump is of this database');
        assertNoSecret(logical, secrets, 'the rows of the database');
        if (h.testDb.url) {
          if (!pgDumpAvailable) {
            t.diagnostic('pg_dump is not on PATH: the pg_dump check is skipped (the rows were checked)');
          } else {
            const dump = execFileSync('pg_dump', [h.testDb.url], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
            assert.ok(dump.includes(subscriptionUuid) && dump.includes('sealed:v1:'), 'pg_dump dumped this database');
            assertNoSecret(dump, secrets, 'pg_dump');
          }
        }
        await h.stop();
        if (diskDir) {
          // The database's own files (WAL included), as a backup of the data dir has them.
          const files = filesAsText(join(diskDir, 'pglite'));
          assert.ok(files.includes(receiver.url), 'the files are this database');
          assertNoSecret(files, secrets, 'the files of the embedded database');
        }
      } finally {
        await h.stop().catch(() => {});
        if (diskDir) rmSync(diskDir, { recursive: true, force: true });
      }
    });

    it('rotates the encryption key without changing a secret: reseal at start, old tokens still valid, a missing key named', async () => {
      const testDb = await backend.open();
      const keyA = randomBytes(32);
      const keyB = randomBytes(32);
      const start = (encryptionKey: Buffer, previousEncryptionKeys: Buffer[] = [], worker = false) =>
        startTestHerald(backend, {
          testDb,
          config: { encryptionKey, previousEncryptionKeys },
          roles: { api: true, worker },
        });
      try {
        let h = await start(keyA);
        const { secrets, subscriptionUuid } = await makeSecrets(h, receiver);
        await h.stop();

        // The new key, with the old one still readable: every value moves under it.
        h = await start(keyB, [keyA], true);
        const sealed = await testDb.db.query<{ v: string }>(
          'select signing_key as v from subscriptions union all select private_jwk from token_signing_keys',
        );
        assert.equal(sealed.rows.length, 3);
        for (const { v } of sealed.rows) assert.ok(v.startsWith(`sealed:v1:${encryptionKeyId(keyB)}:`), v.slice(0, 40));
        // Same signing key through the API, tokens signed before the rotation still valid...
        const self = await h.request('/users/self', { headers: { authorization: `Bearer ${secrets.accessToken}` } });
        assert.equal(self.status, 200);
        const list = await h.request(`/organizations/self/subscriptions`, { headers: { authorization: `Bearer ${secrets.accessToken}` } });
        const subs = (await list.json()) as { uuid: string; signingKey: string }[];
        assert.equal(subs.find((s) => s.uuid === subscriptionUuid)?.signingKey, secrets.signingKey);
        // ...and deliveries signed with it.
        receiver.reset();
        const created = await h.request('/organizations/self/products', {
          method: 'POST',
          headers: { authorization: `Bearer ${secrets.accessToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'Rotated', variants: [{ name: 'V', price: { amount: 1, currencyId: 'SEK' } }] }),
        });
        assert.ok(created.status < 300, await created.clone().text());
        const [delivered] = await receiver.waitFor(1);
        checkPusherRequest(delivered!, secrets.signingKey);
        // API keys issued before still sign in (their JWT signature is unchanged).
        assert.equal(decodeJwt(secrets.apiKey).iss, 'Herald');
        await h.stop();

        // A process without the key the values are under refuses to start, naming it.
        await assert.rejects(
          start(randomBytes(32)),
          (err: unknown) => err instanceof SecretUnavailableError && err.message.includes(encryptionKeyId(keyB)),
        );
      } finally {
        await testDb.dispose();
      }
    });

    it('seals what an older version stored in clear, keeping its value', async () => {
      const testDb = await backend.open();
      const key = randomBytes(32);
      try {
        let h = await startTestHerald(backend, { testDb, config: { encryptionKey: key } });
        const { secrets, subscriptionUuid } = await makeSecrets(h, receiver);
        await h.stop();
        // As stored before migration 005: the signing key and the private JWKs in clear.
        const box = new SecretBox(key);
        await testDb.db.query('update subscriptions set signing_key = $1 where uuid = $2', [secrets.signingKey, subscriptionUuid]);
        const keys = await testDb.db.query<{ kid: string; private_jwk: string }>('select kid, private_jwk from token_signing_keys');
        for (const k of keys.rows) {
          await testDb.db.query('update token_signing_keys set private_jwk = $2 where kid = $1', [k.kid, box.open(k.private_jwk, 'token-signing-key')]);
        }
        h = await startTestHerald(backend, { testDb, config: { encryptionKey: key } });
        const rows = await storeRowsAsText(testDb.db);
        assertNoSecret(rows, secrets, 'the rows after the upgrade');
        const list = await h.request('/organizations/self/subscriptions', { headers: { authorization: `Bearer ${secrets.accessToken}` } });
        assert.equal(((await list.json()) as { signingKey: string }[])[0]?.signingKey, secrets.signingKey);
        await h.stop();
      } finally {
        await testDb.dispose();
      }
    });
  });
}
