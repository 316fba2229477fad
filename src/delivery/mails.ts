import type { FailingSubscription, NewMail } from '../store/sql/record-failure.js';

/**
 * The mails Herald sends to a subscription's contactEmail. They name the subscription,
 * the destination and what went wrong; never a signing key or credential.
 */

export interface FailureFacts {
  errorClass: string;
  status: number | null;
  message: string;
  at: Date;
}

const describeFailure = (f: FailureFacts) =>
  f.status !== null ? `HTTP ${f.status}` : `${f.errorClass}: ${f.message}`;

export function failingMail(s: FailingSubscription, f: FailureFacts, nextAttempt: Date | null): Omit<NewMail, 'createdAt'> {
  return {
    organizationUuid: s.organization_uuid,
    subscriptionUuid: s.uuid,
    kind: 'failing',
    to: s.contact_email,
    subject: `Webhook subscription ${s.uuid} is failing`,
    body: [
      `Deliveries to your webhook destination are failing.`,
      ``,
      `Subscription: ${s.uuid}`,
      `Destination:  ${s.destination}`,
      `Last error:   ${describeFailure(f)} at ${f.at.toISOString()}`,
      nextAttempt ? `Next attempt: ${nextAttempt.toISOString()}` : '',
      ``,
      `Herald keeps retrying on its schedule; messages are not lost while it does.`,
      `The subscription returns to ACTIVE on the next successful delivery. This is the`,
      `only warning for this failing period.`,
    ]
      .filter((l, i, all) => l !== '' || all[i - 1] !== '')
      .join('\n'),
  };
}

export function exhaustedMail(
  s: FailingSubscription,
  f: FailureFacts,
  deleted: boolean,
): Omit<NewMail, 'createdAt'> {
  return {
    organizationUuid: s.organization_uuid,
    subscriptionUuid: s.uuid,
    kind: 'exhausted',
    to: s.contact_email,
    subject: deleted ? `Webhook subscription ${s.uuid} was deleted` : `Webhook subscription ${s.uuid}: retries exhausted`,
    body: [
      `Herald gave up delivering a message to your webhook destination: every retry of its schedule failed.`,
      ``,
      `Subscription: ${s.uuid}`,
      `Destination:  ${s.destination}`,
      `Last error:   ${describeFailure(f)} at ${f.at.toISOString()}`,
      ``,
      deleted
        ? `The subscription has been deleted, as the Pusher API does. Its undelivered messages stay listed; create a new subscription to receive events again.`
        : `The subscription is kept (FAILING). Its undelivered messages can be resent once the destination works.`,
    ].join('\n'),
  };
}

export function goneMail(s: FailingSubscription, at: Date): Omit<NewMail, 'createdAt'> {
  return {
    organizationUuid: s.organization_uuid,
    subscriptionUuid: s.uuid,
    kind: 'gone',
    to: s.contact_email,
    subject: `Webhook subscription ${s.uuid} was deleted: the destination answered 410 Gone`,
    body: [
      `Your webhook destination answered 410 Gone at ${at.toISOString()}, which asks the sender to stop.`,
      ``,
      `Subscription: ${s.uuid}`,
      `Destination:  ${s.destination}`,
      ``,
      `The subscription has been deleted and its pending messages cancelled; they stay listed.`,
    ].join('\n'),
  };
}
