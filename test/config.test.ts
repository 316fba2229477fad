import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ConfigError, describeSettings, loadConfig, ORIGINAL_RETRY_SCHEDULE, parseRetrySchedule } from '../src/config.js';

describe('config', () => {
  it('has production defaults when the environment is empty', () => {
    const c = loadConfig({});
    assert.equal(c.port, 8080);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.databaseUrl, undefined);
    assert.equal(c.dataDir, './data');
    assert.equal(c.deliveryTimeoutMs, 10_000);
    assert.equal(c.allowInsecureDestinations, false);
    assert.deepEqual(c.retrySchedule, ORIGINAL_RETRY_SCHEDULE);
  });

  it('the default retry schedule is the original: 10 x 60 s, 9 x 600 s, then hourly to about 70 h', () => {
    assert.deepEqual(ORIGINAL_RETRY_SCHEDULE.slice(0, 10), Array(10).fill(60));
    assert.deepEqual(ORIGINAL_RETRY_SCHEDULE.slice(10, 19), Array(9).fill(600));
    const total = ORIGINAL_RETRY_SCHEDULE.reduce((a, b) => a + b, 0) / 3600;
    assert.ok(total > 69 && total <= 71, `schedule spans ${total} h`);
  });

  it('reads HERALD_ variables, PORT, HOST and DATABASE_URL', () => {
    const c = loadConfig({
      PORT: '9000',
      HOST: '0.0.0.0',
      DATABASE_URL: 'postgres://u:p@db:5432/herald',
      HERALD_RETRY_SCHEDULE: '60, 60,600',
      HERALD_ALLOW_INSECURE_DESTINATIONS: 'true',
    });
    assert.equal(c.port, 9000);
    assert.equal(c.host, '0.0.0.0');
    assert.equal(c.databaseUrl, 'postgres://u:p@db:5432/herald');
    assert.deepEqual(c.retrySchedule, [60, 60, 600]);
    assert.equal(c.allowInsecureDestinations, true);
  });

  it('names every bad setting at once', () => {
    assert.throws(
      () => loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', HERALD_RETRY_SCHEDULE: '60,soon' }),
      (err: ConfigError) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.problems.length, 3);
        assert.match(err.message, /PORT: must be an integer/);
        assert.match(err.message, /DATABASE_URL: must start with postgres/);
        assert.match(err.message, /HERALD_RETRY_SCHEDULE: item 2 \("soon"\)/);
        return true;
      },
    );
  });

  it('parses any list of whole seconds and rejects anything else', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 7 * 24 * 3600 }), { maxLength: 100 }), (delays) => {
        assert.deepEqual(parseRetrySchedule(delays.join(',')), delays);
      }),
    );
    for (const bad of ['-1', '1.5', '60,,60', 'abc', '60;60']) assert.throws(() => parseRetrySchedule(bad), /item/);
  });

  it('docs/configuration.md documents every setting', () => {
    const doc = readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8');
    for (const s of describeSettings()) assert.ok(doc.includes(`\`${s.env}\``), `${s.env} is missing from docs/configuration.md`);
  });
});
