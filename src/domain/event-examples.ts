import { EVENT_TYPES } from './catalog.js';
import { PAYLOAD_SCHEMAS, PRODUCT_EXAMPLE } from './payload-schemas.js';

/**
 * An example payload for every event of the catalog: what `herald trigger` publishes and
 * GET /events shows. Events with a payload schema use the schema's own example (the
 * spec's, where it has one), else one written here that the schema accepts
 * (test/domain/event-examples.test.ts). The payment and invoice events, the feature
 * toggle and the disconnection events have no schema here (their producers define them:
 * docs/events.md); their examples are illustrative, in the original's style.
 */

const ORG = '1b84dbd0-fb65-11e7-9c34-d96d4f33e8fc';
const USER = '1b881020-fb65-11e7-bcf2-692e23651920';
const AT = '2018-01-17T09:02:27.423+0000';

const organization = (name: string) => ({
  organizationUuid: ORG,
  name,
  legalName: `${name} AB`,
  contactEmail: 'owner@example.com',
  phoneNumber: '+46 8 123 456',
  address: 'Regeringsgatan 1',
  addressLine2: '',
  zipCode: '111 53',
  city: 'Stockholm',
  country: 'SE',
  currency: 'SEK',
  language: 'sv',
  timeZone: 'Europe/Stockholm',
  websiteUrl: 'https://example.com',
  created: AT,
  updated: AT,
});

const payment = (extra: Record<string, unknown> = {}) => ({
  organizationUuid: ORG,
  paymentUuid: '5a6e73f3-6097-11e8-b2d6-1c55840108b7',
  amount: 8300,
  currency: 'SEK',
  timestamp: AT,
  ...extra,
});

const WRITTEN: Readonly<Record<string, Record<string, unknown>>> = {
  ProductUpdated: {
    organizationUuid: ORG,
    uuid: PRODUCT_EXAMPLE.uuid,
    newEntity: { ...PRODUCT_EXAMPLE, name: 'GBRNOTYI (new name)' },
    oldEntity: PRODUCT_EXAMPLE,
  },
  InventoryTrackingStopped: {
    organizationUuid: ORG,
    productUuid: PRODUCT_EXAMPLE.uuid,
    changeInformation: { uuid: USER, timestamp: AT, userType: 'USER' },
  },
  OrganizationUpdated: { organizationUuid: ORG, newEntity: organization('Acme Coffee'), oldEntity: organization('Acme') },
  OrganizationFeatureUpdated: { organizationUuid: ORG, feature: 'INVOICES', enabled: true, updated: AT },
  ApplicationConnectionRemoved: {
    type: 'ApplicationConnectionRemoved',
    organizationUuid: ORG,
    connectionId: '8f7d2f0e-1d5b-4b8e-9a55-3f1f0d6c2a11',
    clientId: '0c7b7f4e-5b1e-4c3e-8a2d-6f3a9b1c2d3e',
    userUuid: USER,
    removed: AT,
  },
  PersonalAssertionDeleted: {
    type: 'PersonalAssertionDeleted',
    organizationUuid: ORG,
    userUuid: USER,
    apiKeyId: '6a1c3e5f-7b9d-4f1a-8c2e-0d4b6f8a1c3e',
    deleted: AT,
  },
  PaymentInitiated: payment({ status: 'INITIATED' }),
  PaymentCreated: payment({ status: 'CREATED', paymentType: 'CARD' }),
  PaymentCanceled: payment({ status: 'CANCELED' }),
  CardPaymentAuthorized: payment({ status: 'AUTHORIZED', cardType: 'VISA', maskedPan: '476173******0010' }),
  CardPaymentInvalid: payment({ status: 'INVALID', reason: 'CARD_DECLINED' }),
  InvoiceCreated: {
    organizationUuid: ORG,
    invoiceUuid: '0f674460-fab5-11e7-a310-0002ebd6a43c',
    invoiceNumber: '1001',
    amount: 8300,
    currency: 'SEK',
    dueDate: '2018-02-16',
    created: AT,
  },
};

/** The example payload of an event of the catalog (undefined for a name that is not one). */
export function eventExample(eventName: string): Record<string, unknown> | undefined {
  if (!EVENT_TYPES.some((e) => e.name === eventName)) return undefined;
  const fromSchema = (PAYLOAD_SCHEMAS[eventName] as { examples?: Record<string, unknown>[] } | undefined)?.examples?.[0];
  return structuredClone(fromSchema ?? WRITTEN[eventName]);
}
