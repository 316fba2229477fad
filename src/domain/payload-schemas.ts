import { Type, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import type { Violation } from '../errors.js';
import { BZ_DATE_VALUE_PATTERN, DECIMAL_PATTERN, SPEC_TIMESTAMP_PATTERN } from './formats.js';

/**
 * JSON Schemas (typebox) of the event payloads: those the spec shows an example of,
 * and OrganizationUpdated, whose payload Herald defines. The receivers' rule holds
 * (spec: "you can ignore unknown fields"): objects allow unknown properties, and every
 * field the spec shows is required with the spec's type and format. The business
 * APIs' responses use the same schemas, and the publish endpoint validates with
 * PAYLOAD_SCHEMAS.
 *
 * The payment and invoice events (PaymentCreated, InvoiceCreated, ...) are "To be
 * added" in the spec: no schema, any JSON object is accepted for them.
 */

const open = { additionalProperties: true } as const;
const obj = <P extends Record<string, TSchema>>(properties: P, options: Record<string, unknown> = {}) =>
  Type.Object(properties, { ...open, ...options });

export const Uuid = Type.String({ format: 'uuid', examples: ['24134200-fb65-11e7-8b46-39368d314702'] });
/** `2018-01-17T09:02:27.423+0000` */
export const SpecTimestamp = Type.String({ pattern: SPEC_TIMESTAMP_PATTERN, examples: ['2018-01-17T09:02:27.423+0000'] });
/** A decimal written as a string: `"10"`, `"0.5"`. */
export const DecimalString = Type.String({ pattern: DECIMAL_PATTERN, examples: ['10'] });
export const ObjectId = Type.String({ pattern: '^[0-9a-f]{24}$', examples: ['5f243d100617680712e78dd5'] });

export const MoneySchema = obj(
  {
    amount: Type.Integer({ description: 'In minor units: 8300 is 83.00.' }),
    currencyId: Type.String({ examples: ['SEK'] }),
  },
  { title: 'Money' },
);

export const VariantSchema = obj(
  {
    uuid: Uuid,
    name: Type.String(),
    description: Type.String(),
    sku: Type.String(),
    barcode: Type.String(),
    price: MoneySchema,
    costPrice: MoneySchema,
  },
  { title: 'Variant' },
);

export const PRODUCT_EXAMPLE = {
  uuid: '24134200-fb65-11e7-8b46-39368d314702',
  organizationUuid: '1b84dbd0-fb65-11e7-9c34-d96d4f33e8fc',
  name: 'GBRNOTYI',
  description: 'CSINH CD ZWR EKTWJ OMYGXV BP JNVQS CF OAMTIS UPZQ YZC QH LAX EZYCBCY NKQUNOK TK FAQCXO XJPBLL ZP UNHVWFI ',
  presentation: { imageUrl: 'http://image.izettle.com/productimage/l/GAdasdaBXTC.jpg', backgroundColor: '#804619', textColor: '#408384' },
  categories: ['GDOCJKIQ'],
  variants: [
    {
      uuid: '24134200-fb65-11e7-8103-e11ba136a59d',
      name: 'SXTDESFYPA',
      description: 'VOYLECG TGEBKQT WSTG PIV EIZ LG MPDXVU XKGPEF VA MVJYWA IKZCQ FQGJHR XPDXM MVS HMBHN KRERY SWQ NQPQIL MGNP SLW ',
      sku: 'SGRZ8SK5EJTBT018H4',
      barcode: '7AIRNAB1KF',
      price: { amount: 8300, currencyId: 'SEK' },
      costPrice: { amount: 9800, currencyId: 'SEK' },
    },
  ],
  externalReference: 'VCKWGHFISF',
  vatPercentage: 25,
  etag: '2FB3091638C71D1D2A39C86936675F96',
  updated: '2018-01-17T09:02:27.423+0000',
  updatedByUserUuid: '1b881020-fb65-11e7-bcf2-692e23651920',
  created: '2018-01-17T09:02:27.423+0000',
  createdByUserUuid: '1b881020-fb65-11e7-bcf2-692e23651920',
};

/** A product of the library (ProductCreated, ProductDeleted, and ProductUpdated's entities). */
export const ProductSchema = obj(
  {
    uuid: Uuid,
    organizationUuid: Uuid,
    name: Type.String(),
    description: Type.String(),
    presentation: obj({ imageUrl: Type.String(), backgroundColor: Type.String(), textColor: Type.String() }),
    categories: Type.Array(Type.String()),
    variants: Type.Array(VariantSchema),
    externalReference: Type.String(),
    vatPercentage: Type.Number({ description: 'A percentage: 25 is 25 %.' }),
    etag: Type.String({ pattern: '^[0-9A-F]{32}$', description: 'Changes on every update; send it in If-Match.' }),
    updated: SpecTimestamp,
    updatedByUserUuid: Uuid,
    created: SpecTimestamp,
    createdByUserUuid: Uuid,
  },
  { title: 'Product', examples: [PRODUCT_EXAMPLE] },
);

export const ProductUpdatedSchema = obj(
  {
    organizationUuid: Uuid,
    // The product's uuid (newEntity.uuid): some receivers (hbackman/woocommerce-zettle) read it at the top.
    uuid: Type.Optional(Uuid),
    newEntity: ProductSchema,
    oldEntity: ProductSchema,
  },
  { title: 'ProductUpdated' },
);

export const BalanceSchema = obj(
  { organizationUuid: Uuid, locationUuid: Uuid, productUuid: Uuid, variantUuid: Uuid, balance: DecimalString },
  { title: 'Balance' },
);

const BALANCE_EXAMPLE = {
  organizationUuid: '1b84dbd0-fb65-11e7-9c34-d96d4f33e8fc',
  locationUuid: '1bfc07a0-fb65-11e7-8d72-68a12b957f8b',
  productUuid: '24134200-fb65-11e7-8b46-39368d314702',
  variantUuid: '24134200-fb65-11e7-8103-e11ba136a59d',
};

/** A balance before a change, with when it was set (`created`). */
export const BalanceBeforeSchema = obj(
  { ...BalanceSchema.properties, created: Type.Optional(SpecTimestamp) },
  { title: 'BalanceBefore' },
);

/** Who changed a balance, when, and with which OAuth client (clientUuid: the API key's client_id claim). */
export const BalanceUpdatedSchema = obj(
  {
    uuid: Uuid,
    timestamp: SpecTimestamp,
    userType: Type.String({ examples: ['USER'] }),
    clientUuid: Type.Union([Uuid, Type.Null()]),
  },
  { title: 'BalanceUpdated' },
);

/**
 * `updated`, `externalUuid` and balanceBefore's `created` are what the original sends
 * (and what SwagPayPal and nopCommerce read) beyond the spec's trimmed example: every
 * payload Herald's APIs produce has them; the schema leaves them optional so that the
 * spec's own example still validates on the publish endpoint.
 */
export const InventoryBalanceChangedSchema = obj(
  {
    organizationUuid: Uuid,
    updated: Type.Optional(BalanceUpdatedSchema),
    externalUuid: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'The change request\'s externalUuid, or null.' })),
    balanceBefore: Type.Array(BalanceBeforeSchema),
    balanceAfter: Type.Array(BalanceSchema),
  },
  {
    title: 'InventoryBalanceChanged',
    examples: [
      {
        organizationUuid: '1b84dbd0-fb65-11e7-9c34-d96d4f33e8fc',
        balanceBefore: [{ ...BALANCE_EXAMPLE, balance: '0' }],
        balanceAfter: [{ ...BALANCE_EXAMPLE, balance: '10' }],
      },
    ],
  },
);

export const ChangeInformationSchema = obj(
  { uuid: Uuid, timestamp: SpecTimestamp, userType: Type.String({ examples: ['USER'] }) },
  { title: 'ChangeInformation', description: 'Who made the change (uuid: the user) and when.' },
);

export const InventoryTrackingStartedSchema = obj(
  { organizationUuid: Uuid, productUuid: Uuid, created: ChangeInformationSchema },
  {
    title: 'InventoryTrackingStarted',
    examples: [
      {
        organizationUuid: '0f60dbc0-fab5-11e7-b884-62da5a369555',
        productUuid: '18380ac0-fab5-11e7-94b4-842bd3fbd22c',
        created: { uuid: '0f674460-fab5-11e7-a310-0002ebd6a43c', timestamp: '2018-01-16T12:02:16.569+0000', userType: 'USER' },
      },
    ],
  },
);

export const InventoryTrackingStoppedSchema = obj(
  { organizationUuid: Uuid, productUuid: Uuid, changeInformation: ChangeInformationSchema },
  { title: 'InventoryTrackingStopped' },
);

export const PurchaseLineSchema = obj({
  productUuid: Uuid,
  variantUuid: Uuid,
  name: Type.String(),
  variantName: Type.String(),
  unitPrice: Type.Integer({ description: 'Minor units.' }),
  quantity: DecimalString,
  vatPercentage: Type.Number({ description: 'A fraction: 0.25 is 25 %.' }),
  autoGenerated: Type.Boolean(),
});

export const CashPaymentSchema = obj({
  cashPaymentUUID: Uuid,
  amount: Type.Integer(),
  handedAmount: Type.Integer(),
  cashPaymentUUID1: Uuid,
});

/** Herald's card payment (the spec shows none); present only when a card paid. */
export const CardPaymentSchema = obj({
  cardPaymentUUID: Uuid,
  amount: Type.Integer(),
  cardType: Type.String(),
  maskedPan: Type.String(),
});

export const PURCHASE_EXAMPLE = {
  purchaseUuid: '244f60a0-fb65-11e7-ae57-406959a78d8a',
  source: 'POS',
  userUuid: '1b881020-fb65-11e7-bcf2-692e23651920',
  currency: 'SEK',
  country: 'SE',
  amount: 8300,
  vatAmount: 1660,
  timestamp: 1516179747754,
  created: '2018-01-17T09:02:27.754+0000',
  gpsCoordinates: { longitude: 10.0, latitude: 10.0, accuracyMeters: 10.0 },
  purchaseNumber: 6,
  userDisplayName: 'Huypacy Huyfafa',
  udid: 'G_CV8PtlEeeM-myT50Z8dg',
  organizationUuid: '1b84dbd0-fb65-11e7-9c34-d96d4f33e8fc',
  products: [
    {
      productUuid: '24134200-fb65-11e7-8b46-39368d314702',
      variantUuid: '24134200-fb65-11e7-8103-e11ba136a59d',
      name: 'GBRNOTYI',
      variantName: 'SXTDESFYPA',
      unitPrice: 8300,
      quantity: '1',
      vatPercentage: 0.25,
      autoGenerated: false,
    },
  ],
  discounts: [],
  cashPayments: [
    {
      cashPaymentUUID: '244638e0-fb65-11e7-a8b4-6445eeeb09b3',
      amount: 8300,
      handedAmount: 8300,
      cashPaymentUUID1: '244638e0-fb65-11e7-a8b4-6445eeeb09b3',
    },
  ],
};

export const GpsCoordinatesSchema = obj({ longitude: Type.Number(), latitude: Type.Number(), accuracyMeters: Type.Number() });

export const PurchaseSchema = obj(
  {
    purchaseUuid: Uuid,
    source: Type.String(),
    userUuid: Uuid,
    currency: Type.String(),
    country: Type.String(),
    amount: Type.Integer({ description: 'Minor units.' }),
    vatAmount: Type.Integer({ description: 'Minor units: the VAT contained in amount.' }),
    timestamp: Type.Integer({ description: 'Epoch milliseconds.' }),
    created: SpecTimestamp,
    gpsCoordinates: GpsCoordinatesSchema,
    purchaseNumber: Type.Integer({ description: 'Increases by one with every purchase of the organization.' }),
    userDisplayName: Type.String(),
    udid: Type.String(),
    organizationUuid: Uuid,
    products: Type.Array(PurchaseLineSchema),
    discounts: Type.Array(obj({}), { description: 'Herald writes {name, amount} (minor units).' }),
    cashPayments: Type.Array(CashPaymentSchema),
    cardPayments: Type.Optional(Type.Array(CardPaymentSchema)),
  },
  {
    title: 'PurchaseCreated',
    // The spec's example, but with the vatAmount its amounts imply (the spec shows 21).
    examples: [PURCHASE_EXAMPLE],
  },
);

export const BzDateSchema = obj(
  { value: Type.String({ pattern: BZ_DATE_VALUE_PATTERN }), offset: Type.Integer({ description: 'Minutes.' }) },
  { title: 'BzDate', examples: [{ value: '2020-11-10T15:02:10Z', offset: 0 }] },
);

export const PaymentTerminalSchema = obj(
  {
    _id: ObjectId,
    accountId: ObjectId,
    name: Type.String(),
    protocol: Type.Union([Type.Literal('ws'), Type.Literal('wss')]),
    ip: Type.String(),
    locationId: ObjectId,
    partNumber: Type.String({ pattern: '^TRD' }),
    serialNumber: Type.String({ minLength: 1 }),
    createdBy: ObjectId,
    updatedBy: ObjectId,
    createdAt: BzDateSchema,
    updatedAt: BzDateSchema,
  },
  {
    title: 'PaymentTerminal',
    examples: [
      {
        _id: '5f243d100617680712e78dd5',
        accountId: '5f243d100617680712e78dd6',
        name: 'Terminal 1',
        protocol: 'ws',
        ip: '192.168.10.10',
        locationId: '5f243d100617680712e78dd7',
        partNumber: 'TRD30110877A',
        serialNumber: 'SN12345',
        createdBy: '5f243d100617680712e78dd7',
        updatedBy: '5f243d100617680712e78dd7',
        createdAt: { value: '2020-11-10T15:02:10Z', offset: 0 },
        updatedAt: { value: '2020-11-10T15:02:10Z', offset: 0 },
      },
    ],
  },
);

export const PaymentTerminalDeletedSchema = obj(
  { paymentTerminalId: ObjectId },
  { title: 'paymentTerminals.deleted', examples: [{ paymentTerminalId: '5f243d100617680712e78dd5' }] },
);

/** Herald's organization details: OrganizationUpdated's entities and GET /organizations/{organizationUuid}. */
export const OrganizationDetailsSchema = obj(
  {
    organizationUuid: Uuid,
    name: Type.String(),
    legalName: Type.String(),
    contactEmail: Type.String(),
    phoneNumber: Type.String(),
    address: Type.String(),
    addressLine2: Type.String(),
    zipCode: Type.String(),
    city: Type.String(),
    country: Type.String({ description: 'ISO 3166-1 alpha-2, or "".' }),
    currency: Type.String({ description: 'ISO 4217, or "".' }),
    language: Type.String(),
    timeZone: Type.String(),
    websiteUrl: Type.String(),
    created: SpecTimestamp,
    updated: SpecTimestamp,
  },
  { title: 'OrganizationDetails' },
);

export const OrganizationUpdatedSchema = obj(
  { organizationUuid: Uuid, newEntity: OrganizationDetailsSchema, oldEntity: OrganizationDetailsSchema },
  { title: 'OrganizationUpdated' },
);

/** The payload schema of each event that has one (Inventory envelope events: the schema of `data`). */
export const PAYLOAD_SCHEMAS: Readonly<Record<string, TSchema>> = {
  ProductCreated: ProductSchema,
  ProductUpdated: ProductUpdatedSchema,
  ProductDeleted: ProductSchema,
  InventoryBalanceChanged: InventoryBalanceChangedSchema,
  InventoryTrackingStarted: InventoryTrackingStartedSchema,
  InventoryTrackingStopped: InventoryTrackingStoppedSchema,
  PurchaseCreated: PurchaseSchema,
  OrganizationUpdated: OrganizationUpdatedSchema,
  'paymentTerminals.created': PaymentTerminalSchema,
  'paymentTerminals.updated': PaymentTerminalSchema,
  'paymentTerminals.deleted': PaymentTerminalDeletedSchema,
};

const compiled = new Map<string, ReturnType<typeof Compile>>();

/**
 * Checks a payload against its event's schema: the violations (propertyName: the
 * path, `products.0.quantity`), none when it conforms or the event has no schema.
 */
export function payloadViolations(eventName: string, payload: unknown): Violation[] {
  const schema = PAYLOAD_SCHEMAS[eventName];
  if (!schema) return [];
  let check = compiled.get(eventName);
  if (!check) compiled.set(eventName, (check = Compile(schema)));
  if (check.Check(payload)) return [];
  return [...check.Errors(payload)].map((e) => {
    const base = e.instancePath.replace(/^\//, '').replaceAll('/', '.');
    const missing = (e.params as { requiredProperties?: string[] }).requiredProperties;
    const propertyName = missing?.length ? [base, missing.join(',')].filter(Boolean).join('.') : base || 'payload';
    return { propertyName, developerMessage: e.message };
  });
}
