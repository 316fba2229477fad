import type { Scope } from './scopes.js';

/**
 * The event catalog: every event Herald delivers, the scope a subscriber needs for it
 * (null: any valid credential), and the envelope it travels in. One module, so the
 * Pusher API's validation, fan-out, the publish endpoint and GET /events agree.
 */

export type Envelope = 'pusher' | 'inventory';

export interface EventType {
  name: string;
  scope: Scope | null;
  envelope: Envelope;
  trigger: string;
  /**
   * Subscriptions that name one of these, but not this event, receive it under that
   * name (its payload unchanged, so payload.type still tells it apart): still one
   * message per subscription. Clients of the original subscribe to
   * ApplicationConnectionRemoved alone, switch on eventName, then act on payload.type
   * being either disconnection (nopCommerce).
   */
  alsoFor?: readonly string[];
}

const pusher = (name: string, scope: Scope | null, trigger: string, alsoFor?: readonly string[]): EventType => ({
  name,
  scope,
  envelope: 'pusher',
  trigger,
  ...(alsoFor ? { alsoFor } : {}),
});
const inventory = (name: string, trigger: string): EventType => ({
  name,
  scope: 'READ:PAYMENT_TERMINAL',
  envelope: 'inventory',
  trigger,
});

export const EVENT_TYPES: readonly EventType[] = [
  pusher('PurchaseCreated', 'READ:PURCHASE', 'A purchase is finalized and a receipt is created.'),
  pusher('OrganizationUpdated', 'READ:USERINFO', 'A property of the organization is updated (name, email, ...).'),
  pusher('OrganizationFeatureUpdated', 'READ:USERINFO', 'A feature of the organization is turned on or off.'),
  pusher('ProductCreated', 'READ:PRODUCT', 'A product is created in the product library.'),
  pusher('ProductUpdated', 'READ:PRODUCT', 'A product is updated in the product library.'),
  pusher('ProductDeleted', 'READ:PRODUCT', 'A product is deleted from the product library.'),
  pusher('InventoryBalanceChanged', 'READ:PRODUCT', 'A sale or a stock update changes the balance of a tracked product.'),
  pusher('InventoryTrackingStarted', 'READ:PRODUCT', 'Inventory tracking is enabled for a product.'),
  pusher('InventoryTrackingStopped', 'READ:PRODUCT', 'Inventory tracking is disabled for a product.'),
  pusher(
    'ApplicationConnectionRemoved',
    null,
    'The application was disconnected from the organization and its OAuth refresh token invalidated.',
  ),
  pusher('PersonalAssertionDeleted', null, 'The API key used to create subscriptions was deleted.', ['ApplicationConnectionRemoved']),
  pusher('PaymentInitiated', 'READ:FINANCE', 'A payment is initiated.'),
  pusher('PaymentCreated', 'READ:FINANCE', 'A payment is created.'),
  pusher('PaymentCanceled', 'READ:FINANCE', 'A payment is canceled.'),
  pusher('CardPaymentAuthorized', 'READ:FINANCE', 'A card payment is authorized.'),
  pusher('CardPaymentInvalid', 'READ:FINANCE', 'A card payment is invalid.'),
  // The spec documents no scope for InvoiceCreated; invoices are financial data, so
  // Herald asks for READ:FINANCE, like the payment events.
  pusher('InvoiceCreated', 'READ:FINANCE', 'An invoice is created.'),
  inventory('paymentTerminals.created', 'A payment terminal is created (POST /payment-terminals).'),
  inventory('paymentTerminals.updated', 'A payment terminal is updated (PUT /payment-terminals/:paymentTerminalId).'),
  inventory('paymentTerminals.deleted', 'A payment terminal is deleted (DELETE /payment-terminals/:paymentTerminalId).'),
];

const BY_NAME = new Map(EVENT_TYPES.map((e) => [e.name, e]));

export const eventType = (name: string): EventType | undefined => BY_NAME.get(name);

export const isEventName = (name: string): boolean => BY_NAME.has(name);


/** The scopes a subscription to these events needs; an empty list means every event. */
export function scopesNeeded(eventNames: readonly string[]): Scope[] {
  const types = eventNames.length === 0 ? EVENT_TYPES : eventNames.map((n) => BY_NAME.get(n)).filter((e) => e !== undefined);
  return [...new Set(types.map((e) => e.scope).filter((s): s is Scope => s !== null))];
}

/** The scopes of these events (empty: every event) that `held` lacks. */
export function missingScopes(held: readonly Scope[], eventNames: readonly string[]): Scope[] {
  return scopesNeeded(eventNames).filter((s) => !held.includes(s));
}

/** The Pusher API's test message, sent to a destination when a subscription is created. */
export const TEST_MESSAGE_EVENT = 'TestMessage';
