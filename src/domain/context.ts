import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Db } from '../store/db.js';

/** What domain operations are given: the database, the time, the settings, the log. */
export interface DomainContext {
  db: Db;
  clock: Clock;
  config: Config;
  log: Logger;
}
