// The Python verifier (packages/webhooks-python, standard library only) on deliveries of
// every event type recorded from a running Herald just now: its own unittest suite runs
// on them. Also keeps the recording beside it current enough to run alone.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { EVENT_TYPES } from '../../src/domain/catalog.js';
import { deliverEveryEvent, examplePayload, type EveryEvent } from './deliveries.js';

const PACKAGE = fileURLToPath(new URL('../../packages/webhooks-python/', import.meta.url));

/** The recording the Python tests read: the signing key and each delivery as received. */
export function recording(all: EveryEvent): unknown {
  return {
    signingKey: all.signingKey,
    deliveries: EVENT_TYPES.map((e) => {
      const req = all.byEvent.get(e.name)!;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && !['host', 'connection', 'content-length'].includes(k)) headers[k] = v;
      return {
        eventName: e.name,
        envelope: e.envelope,
        body: req.body,
        headers,
        expected: e.name === 'OrganizationUpdated' ? null : examplePayload(e.name),
      };
    }),
  };
}

describe('herald_webhooks (Python) on real deliveries', { skip: spawnSync('python3', ['--version']).error ? 'python3 is not installed' : false }, () => {
  let all: EveryEvent;
  const dir = mkdtempSync(join(tmpdir(), 'herald-py-'));
  before(async () => {
    all = await deliverEveryEvent();
  });
  after(async () => {
    await all?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes its unittest suite on deliveries of every event type', () => {
    const file = join(dir, 'deliveries.json');
    writeFileSync(file, JSON.stringify(recording(all), null, 2));
    if (process.env.HERALD_RECORD_PYTHON_FIXTURE === '1') writeFileSync(join(PACKAGE, 'recorded_deliveries.json'), `${JSON.stringify(recording(all), null, 2)}\n`);
    const r = spawnSync('python3', ['-m', 'unittest', '-v', 'test_herald_webhooks'], {
      cwd: PACKAGE,
      env: { ...process.env, HERALD_RECORDED_DELIVERIES: file, PYTHONDONTWRITEBYTECODE: '1' },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /Ran 6 tests/);
    assert.match(r.stderr, /\nOK\n?$/);
  });
});
