import { v1 as uuidV1 } from 'uuid';
import { unwrap } from '../api-client.js';
import { UsageError } from '../usage-error.js';
import { isHelp, KEY_HELP, KEY_OPTIONS, keyApi, listOf, parseFlags, printJson, requireFlag, uuidFlag } from './common.js';

export const SUBSCRIPTIONS_USAGE = `Usage:
  herald subscriptions list
  herald subscriptions create --destination URL --contact EMAIL [--events A,B] [--ordered]
                              create a subscription (Herald sends it a TestMessage first)
  herald subscriptions delete --subscription UUID
  herald rotate-key --subscription UUID [--overlap SECONDS]
                              give a subscription a new signing key; the old one stays
                              valid beside it for SECONDS (default 86400)

Options:
  --events A,B         the events (default: every event; needs every scope)
  --uuid UUID          the new subscription's uuid (default: a new version-1 UUID)
${KEY_HELP}`;

/** `herald subscriptions list|create|delete`: the Pusher API, with the organization's API key. */
export async function subscriptionsCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const path = { organizationUuid: 'self' };
  switch (sub) {
    case 'list': {
      const flags = parseFlags(rest, KEY_OPTIONS);
      if (flags.help) return console.log(SUBSCRIPTIONS_USAGE);
      const subs = unwrap(await keyApi(flags).GET('/organizations/{organizationUuid}/subscriptions', { params: { path } }));
      if (flags.json) return printJson(subs);
      if (subs.length === 0) return console.log('No subscriptions.');
      for (const s of subs) console.log(`${s.uuid}  ${s.status.padEnd(7)}  ${s.destination}  ${s.eventNames.join(',') || '(every event)'}`);
      return;
    }
    case 'create': {
      const flags = parseFlags(rest, {
        ...KEY_OPTIONS,
        destination: { type: 'string' },
        contact: { type: 'string' },
        events: { type: 'string' },
        uuid: { type: 'string' },
        ordered: { type: 'boolean', default: false },
      });
      if (flags.help) return console.log(SUBSCRIPTIONS_USAGE);
      const body = {
        uuid: flags.uuid ?? uuidV1(),
        transportName: 'WEBHOOK',
        eventNames: flags.events === undefined ? [] : listOf(flags.events, '--events'),
        destination: requireFlag(flags.destination, '--destination'),
        contactEmail: requireFlag(flags.contact, '--contact'),
        ...(flags.ordered ? { ordered: true } : {}),
      };
      const s = unwrap(await keyApi(flags).POST('/organizations/{organizationUuid}/subscriptions', { params: { path }, body }));
      if (flags.json) return printJson(s);
      console.log(`Created subscription ${s.uuid}\n  destination  ${s.destination}\n  events       ${s.eventNames.join(', ') || '(every event)'}\n  signing key  ${s.signingKey}`);
      return;
    }
    case 'delete': {
      const flags = parseFlags(rest, { ...KEY_OPTIONS, subscription: { type: 'string' } });
      if (flags.help) return console.log(SUBSCRIPTIONS_USAGE);
      const subscriptionUuid = uuidFlag(flags.subscription, '--subscription');
      unwrap(await keyApi(flags).DELETE('/organizations/{organizationUuid}/subscriptions/{subscriptionUuid}', { params: { path: { ...path, subscriptionUuid } } }));
      if (flags.json) return printJson({ uuid: subscriptionUuid, deleted: true });
      console.log(`Deleted subscription ${subscriptionUuid}`);
      return;
    }
    default:
      if (isHelp(sub)) return console.log(SUBSCRIPTIONS_USAGE);
      throw new UsageError(`unknown subscriptions command "${sub}"\n\n${SUBSCRIPTIONS_USAGE}`);
  }
}

/** `herald rotate-key`: a new signing key for a subscription, the old one valid for an overlap. */
export async function rotateKeyCommand(args: string[]): Promise<void> {
  const flags = parseFlags(args, { ...KEY_OPTIONS, subscription: { type: 'string' }, overlap: { type: 'string' } });
  if (flags.help) return console.log(SUBSCRIPTIONS_USAGE);
  const subscriptionUuid = uuidFlag(flags.subscription, '--subscription');
  if (flags.overlap !== undefined && !/^\d{1,7}$/.test(flags.overlap)) throw new UsageError('--overlap must be a whole number of seconds');
  const overlapSeconds = flags.overlap === undefined ? undefined : Number(flags.overlap);
  const r = unwrap(
    await keyApi(flags).POST('/organizations/{organizationUuid}/subscriptions/{subscriptionUuid}/rotate-signing-key', {
      params: { path: { organizationUuid: 'self', subscriptionUuid } },
      body: overlapSeconds === undefined ? {} : { overlapSeconds },
    }),
  );
  if (flags.json) return printJson(r);
  console.log(`New signing key for ${subscriptionUuid}\n  signing key   ${r.signingKey}\n  old key valid until ${r.previousSigningKeyValidUntil}`);
}
