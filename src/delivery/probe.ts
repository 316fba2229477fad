import type { Clock } from '../clock.js';
import type { DestinationProbe, ProbeOutcome } from '../domain/subscriptions.js';
import { testMessage } from '../domain/delivery-request.js';
import { signRequest } from './envelopes.js';
import type { SendResult } from './send.js';
import type { Sender } from './send.js';

/** Maps a send result to what the Pusher API answers a create with. */
export function probeOutcome(r: SendResult): ProbeOutcome {
  if (r.ok) return { kind: 'ok' };
  switch (r.errorClass) {
    case 'http_status':
    case 'redirect':
      return { kind: 'error_status', status: r.status ?? 0 };
    case 'unsafe_destination':
      return { kind: 'unsafe', message: r.message };
    default:
      return { kind: 'unreachable', message: r.message };
  }
}

/**
 * The destination check on create: POSTs a signed TestMessage (eventName "TestMessage",
 * payload "{\"data\":\"payload\"}") with the new subscription's signing key.
 */
export function makeDestinationProbe(deps: { sender: Sender; clock: Clock }): DestinationProbe {
  return async ({ organizationUuid, destination, signingKey }) => {
    const now = deps.clock.now();
    const env = testMessage({ organizationUuid, timestamp: now });
    const result = await deps.sender.send(destination, env.body, signRequest(env, signingKey, now));
    return probeOutcome(result);
  };
}
