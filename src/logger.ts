import pino, { type Logger } from 'pino';
import type { Config } from './config.js';

export type { Logger };

/**
 * Paths redacted from every log line. Secrets never reach logs: request bodies are not
 * logged, and these cover the headers and fields that could carry a credential.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  '*.apiKey',
  '*.signingKey',
  '*.assertion',
  '*.refresh_token',
  '*.refreshToken',
  '*.access_token',
  '*.password',
  'adminToken',
];

/** pino JSON logs; readable (pino-pretty) when stdout is a terminal or asked for. */
export function makeLogger(config: Pick<Config, 'logLevel' | 'logFormat'>, destination?: pino.DestinationStream): Logger {
  const pretty = config.logFormat === 'pretty' || (config.logFormat === 'auto' && process.stdout.isTTY === true);
  const options: pino.LoggerOptions = {
    level: config.logLevel,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
  };
  if (destination) return pino(options, destination);
  if (pretty) return pino({ ...options, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l' } } });
  return pino(options);
}
