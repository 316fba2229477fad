import type { DomainContext } from '../context.js';
import type { Principal } from '../principal.js';
import { unauthorized } from '../../errors.js';

/**
 * Resolves a bearer credential (an access token JWT or an API key) to its principal,
 * or throws 401 saying why. TO BE IMPLEMENTED by the identity work (issue 3).
 */
export async function authenticateBearer(_ctx: DomainContext, _token: string): Promise<Principal> {
  throw unauthorized('UNAUTHORIZED', 'credentials are not implemented yet');
}
