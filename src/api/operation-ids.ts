/**
 * The operationId of every documented route, in one table (the OpenAPI plugin sets them;
 * test/api/openapi-ids.test.ts fails when a documented route has none), so generated
 * clients get names like `createSubscription` instead of paths. Routes that need no
 * credential are listed in PUBLIC_OPERATIONS (`security: []`).
 */
export const OPERATION_IDS: Readonly<Record<string, string>> = {
  'GET /healthz': 'getHealth',
  'GET /readyz': 'getReadiness',
  'GET /events': 'listEventTypes',
  'POST /token': 'createToken',
  'GET /users/self': 'getCurrentUser',
  'GET /users/me': 'getCurrentUserMe',
  'GET /organizations/{organizationUuid}/subscriptions/{subscriptionUuid}/messages': 'listMessages',
  'GET /organizations/{organizationUuid}/subscriptions/{subscriptionUuid}/messages/{messageId}/attempts': 'listMessageAttempts',
  'POST /organizations/{organizationUuid}/subscriptions/{subscriptionUuid}/messages/{messageId}/resend': 'resendMessage',
  'POST /organizations/{organizationUuid}/subscriptions/{subscriptionUuid}/resend': 'resendUndeliveredMessages',
  'POST /organizations/{organizationUuid}/subscriptions': 'createSubscription',
  'GET /organizations/{organizationUuid}/subscriptions': 'listSubscriptions',
  'PUT /organizations/{organizationUuid}/subscriptions/{subscriptionUuid}': 'updateSubscription',
  'DELETE /organizations/{organizationUuid}/subscriptions/{subscriptionUuid}': 'deleteSubscription',
  'DELETE /organizations/{organizationUuid}/subscriptions/uuid/{subscriptionUuid}': 'deleteSubscriptionByUuidPath',
  'POST /organizations/{organizationUuid}/subscriptions/{subscriptionUuid}/rotate-signing-key': 'rotateSigningKey',
  'GET /organizations/{organizationUuid}/attempts': 'listAttemptFeed',
  'POST /organizations/{organizationUuid}/listeners': 'createListener',
  'GET /organizations/{organizationUuid}/listeners/{listenerId}/stream': 'streamListener',
  'POST /organizations/{organizationUuid}/listeners/{listenerId}/answers/{requestId}': 'answerListenRequest',
  'DELETE /organizations/{organizationUuid}/listeners/{listenerId}': 'deleteListener',
  'POST /organizations/{organizationUuid}/products': 'createProduct',
  'GET /organizations/{organizationUuid}/products': 'listProducts',
  'GET /organizations/{organizationUuid}/products/{productUuid}': 'getProduct',
  'PUT /organizations/{organizationUuid}/products/{productUuid}': 'updateProduct',
  'DELETE /organizations/{organizationUuid}/products/{productUuid}': 'deleteProduct',
  'POST /organizations/{organizationUuid}/inventory/tracking': 'startInventoryTracking',
  'GET /organizations/{organizationUuid}/inventory/tracking': 'listInventoryTracking',
  'DELETE /organizations/{organizationUuid}/inventory/tracking/{productUuid}': 'stopInventoryTracking',
  'PUT /organizations/{organizationUuid}/inventory/balances': 'updateInventoryBalances',
  'GET /organizations/{organizationUuid}/inventory/balances': 'listInventoryBalances',
  'GET /organizations/{organizationUuid}/inventory/locations': 'listInventoryLocations',
  'GET /organizations/{organizationUuid}/inventory/locations/{locationUuid}': 'getInventoryLocation',
  'GET /organizations/{organizationUuid}/locations': 'listLocations',
  'POST /organizations/{organizationUuid}/purchases': 'createPurchase',
  'GET /organizations/{organizationUuid}/purchases': 'listPurchases',
  'GET /organizations/{organizationUuid}/purchases/{purchaseUuid}': 'getPurchase',
  'GET /organizations/{organizationUuid}': 'getOrganizationDetails',
  'PUT /organizations/{organizationUuid}': 'updateOrganizationDetails',
  'POST /payment-terminals': 'createPaymentTerminal',
  'GET /payment-terminals': 'listPaymentTerminals',
  'GET /payment-terminals/{paymentTerminalId}': 'getPaymentTerminal',
  'PUT /payment-terminals/{paymentTerminalId}': 'updatePaymentTerminal',
  'DELETE /payment-terminals/{paymentTerminalId}': 'deletePaymentTerminal',
  'GET /undelivered': 'listUndelivered',
  'GET /undelivered/{id}': 'getUndelivered',
  'PUT /undelivered/{id}/retry': 'retryUndelivered',
  'PUT /undelivered/retry-all': 'retryAllUndelivered',
  'POST /admin/organizations': 'adminCreateOrganization',
  'GET /admin/organizations': 'adminListOrganizations',
  'GET /admin/organizations/{organizationUuid}': 'adminGetOrganization',
  'POST /admin/organizations/{organizationUuid}/events': 'adminPublishEvent',
  'POST /admin/organizations/{organizationUuid}/events/batch': 'adminPublishEvents',
  'GET /admin/mails': 'adminListMails',
  'GET /admin/organizations/{organizationUuid}/subscriptions/{subscriptionUuid}/messages': 'adminListMessages',
  'GET /admin/organizations/{organizationUuid}/subscriptions/{subscriptionUuid}/messages/{messageId}/attempts': 'adminListMessageAttempts',
  'POST /admin/organizations/{organizationUuid}/subscriptions/{subscriptionUuid}/messages/{messageId}/resend': 'adminResendMessage',
  'POST /admin/organizations/{organizationUuid}/subscriptions/{subscriptionUuid}/resend': 'adminResendUndeliveredMessages',
  'POST /admin/organizations/{organizationUuid}/api-keys': 'adminCreateApiKey',
  'GET /admin/organizations/{organizationUuid}/api-keys': 'adminListApiKeys',
  'GET /admin/organizations/{organizationUuid}/api-keys/{apiKeyId}': 'adminGetApiKey',
  'DELETE /admin/organizations/{organizationUuid}/api-keys/{apiKeyId}': 'adminDeleteApiKey',
  'POST /admin/organizations/{organizationUuid}/app-connections': 'adminCreateAppConnection',
  'GET /admin/organizations/{organizationUuid}/app-connections': 'adminListAppConnections',
  'GET /admin/organizations/{organizationUuid}/app-connections/{connectionId}': 'adminGetAppConnection',
  'DELETE /admin/organizations/{organizationUuid}/app-connections/{connectionId}': 'adminDeleteAppConnection',
};

/** Routes that take no credential. */
export const PUBLIC_OPERATIONS: ReadonlySet<string> = new Set(['getHealth', 'getReadiness', 'listEventTypes', 'createToken']);

/** `GET /a/:b` (Fastify) as `GET /a/{b}` (OpenAPI), the table's key. */
export function operationKey(method: string, url: string): string {
  return `${method.toUpperCase()} ${url.replace(/:(\w+)/g, '{$1}').replace(/\/$/, '') || '/'}`;
}
