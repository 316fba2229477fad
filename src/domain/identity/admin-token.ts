import { createHash, timingSafeEqual } from 'node:crypto';
import { unauthorized } from '../../errors.js';

/** The admin API without HERALD_ADMIN_TOKEN: every admin credential is refused so. */
export const adminApiDisabled = () => unauthorized('ADMIN_API_DISABLED', 'the admin API is disabled: set HERALD_ADMIN_TOKEN to enable it');

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * The admin token's check, for the admin routes' guard and the Console's operator
 * sign-in: throws 401 unless `presented` is the admin token (compared in constant time,
 * by digest, against the token's digest taken once), or ADMIN_API_DISABLED without one.
 */
export function adminTokenCheck(adminToken: string | undefined): (presented: string) => void {
  const expected = adminToken === undefined ? undefined : digest(adminToken);
  return (presented) => {
    if (!expected) throw adminApiDisabled();
    if (!timingSafeEqual(digest(presented), expected)) throw unauthorized('UNAUTHORIZED', 'invalid admin token');
  };
}
