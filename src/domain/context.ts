import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Db } from '../store/db.js';
import type { SecretBox } from './sealed-secrets.js';

/** What domain operations are given: the database, the time, the settings, the log, the key to secrets at rest. */
export interface DomainContext {
  db: Db;
  clock: Clock;
  config: Config;
  log: Logger;
  secrets: SecretBox;
}
