/**
 * Every OAuth scope Herald knows, in one place. The first four are the spec's; the
 * rest are what Herald's own business APIs need.
 */
export const SCOPES = {
  'READ:PURCHASE': 'Read purchases; subscribe to PurchaseCreated.',
  'READ:USERINFO': 'Read the organization; subscribe to OrganizationUpdated and OrganizationFeatureUpdated.',
  'READ:PRODUCT': 'Read products and inventory; subscribe to product and inventory events.',
  'READ:FINANCE': 'Read payments and invoices; subscribe to payment and invoice events.',
  'WRITE:USERINFO': 'Update the organization details.',
  'WRITE:PRODUCT': 'Create, update and delete products; start and stop inventory tracking; change balances.',
  'WRITE:PURCHASE': 'Record purchases (what the point of sale does when a sale is finalized).',
  'READ:PAYMENT_TERMINAL': 'Read payment terminals; subscribe to paymentTerminals.* events.',
  'WRITE:PAYMENT_TERMINAL': 'Create, update and delete payment terminals.',
} as const;

export type Scope = keyof typeof SCOPES;

export const ALL_SCOPES = Object.keys(SCOPES) as Scope[];

export const isScope = (s: string): s is Scope => Object.hasOwn(SCOPES, s);
