import type { Scope } from './scopes.js';

/** Who is acting: the user a credential acts as, in its organization, with its scopes. */
export interface Principal {
  organizationUuid: string;
  userUuid: string;
  /** 24-hex id of the user where the Inventory API shows one (createdBy, updatedBy). */
  userObjectId: string;
  scopes: readonly Scope[];
  /** false for test-mode credentials. */
  livemode: boolean;
  /** The credential: 'api_key:<apiKeyId>' or 'app_connection:<connectionId>'. Stored with what it creates. */
  credentialRef: string;
  /**
   * The OAuth client acting: an API key's client_id claim, or an app connection's
   * client. Changes it makes name it (InventoryBalanceChanged's updated.clientUuid);
   * null for a key issued before keys were JWTs.
   */
  clientId: string | null;
}
