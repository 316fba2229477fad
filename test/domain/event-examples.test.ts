// Every event of the catalog has an example payload (herald trigger, GET /events), and
// an event with a payload schema has one the schema accepts: what trigger publishes is
// what the publish endpoint takes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EVENT_TYPES } from '../../src/domain/catalog.js';
import { eventExample } from '../../src/domain/event-examples.js';
import { PAYLOAD_SCHEMAS, payloadViolations } from '../../src/domain/payload-schemas.js';

describe('event examples', () => {
  it('gives every event an object its schema accepts', () => {
    for (const e of EVENT_TYPES) {
      const example = eventExample(e.name);
      assert.ok(example && typeof example === 'object' && Object.keys(example).length > 0, `${e.name} has an example`);
      if (PAYLOAD_SCHEMAS[e.name]) assert.deepEqual(payloadViolations(e.name, example), [], e.name);
    }
  });

  it('knows no example for a name outside the catalog, and hands out copies', () => {
    assert.equal(eventExample('NoSuchEvent'), undefined);
    const a = eventExample('ProductCreated')!;
    a.name = 'changed';
    assert.notEqual(eventExample('ProductCreated')!.name, 'changed');
  });
});
