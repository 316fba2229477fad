import { Writable } from 'node:stream';
import { makeLogger, type Logger } from '../../src/logger.js';

/** A JSON logger (level info) whose lines the test reads: parsed, and as the raw text written. */
export function captureLog(): { log: Logger; lines: Record<string, unknown>[]; raw: () => string } {
  const lines: Record<string, unknown>[] = [];
  let raw = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      raw += chunk.toString();
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { log: makeLogger({ logLevel: 'info', logFormat: 'json' }, sink), lines, raw: () => raw };
}
