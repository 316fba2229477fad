// The SDK's event types are generated from Herald's catalog and payload schemas: the file
// in the package is what the generator makes from the catalog as it is now.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { EVENTS_FILE, generateEvents } from '../../scripts/generate-sdk-events.js';
import { EVENT_TYPES } from '../../src/domain/catalog.js';

describe('herald-webhooks event types', () => {
  it('are generated from the catalog as it is (npx tsx scripts/generate-sdk-events.ts)', async () => {
    assert.equal(readFileSync(EVENTS_FILE, 'utf8'), await generateEvents());
  });

  it('name every event of the catalog', () => {
    const text = readFileSync(EVENTS_FILE, 'utf8');
    for (const e of EVENT_TYPES) assert.match(text, new RegExp(`^  "?${e.name.replace('.', '\\.')}"?: `, 'm'), e.name);
  });

  it('the package imports nothing but its own files (no server code, no dependency)', () => {
    const dir = new URL('../../packages/webhooks/src/', import.meta.url);
    for (const f of readdirSync(dir)) {
      const text = readFileSync(new URL(f, dir), 'utf8');
      for (const m of text.matchAll(/^(?:import|export)[^'"]*from '([^']+)'/gm)) assert.match(m[1]!, /^\.\/[\w-]+\.js$/, `${f} imports ${m[1]}`);
    }
  });
});
