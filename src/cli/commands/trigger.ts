import { readFileSync } from 'node:fs';
import { heraldApi, unwrap } from '../api-client.js';
import { apiOf, resolveAdminTarget, resolveUrl } from '../target.js';
import { UsageError } from '../usage-error.js';
import { catalogEvent, parseFlags, printJson, TARGET_HELP, TARGET_OPTIONS } from './common.js';

export const TRIGGER_USAGE = `Usage: herald trigger <EventName> [--payload FILE] [--org UUID] [options]

  Publishes one event to an organization's subscriptions (and its herald listen
  sessions), as a producer would: by default the catalog's example payload of that event
  (GET /events shows them). It goes through the admin API, so it takes the admin token.

Options:
  --payload FILE       the payload, a JSON object, from FILE (- reads stdin)
  --org UUID           the organization (default: the organization of --api-key / HERALD_API_KEY)
  --api-key KEY        an API key of the organization, to find it without --org
  --message-id ID      the producer's id for the event (the same id twice is one message)
${TARGET_HELP}`;

function readPayload(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --payload ${file}: ${(err as Error).message}`);
  }
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--payload ${file} is not JSON: ${(err as Error).message}`);
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) throw new UsageError(`--payload ${file} must hold a JSON object`);
  return payload;
}

/** `herald trigger`: publishes an example (or given) event through the admin API. */
export async function triggerCommand(args: string[]): Promise<void> {
  const { values: flags, positionals } = parseFlags(
    args,
    { ...TARGET_OPTIONS, payload: { type: 'string' }, org: { type: 'string' }, 'api-key': { type: 'string' }, 'message-id': { type: 'string' } },
    { positionals: 1 },
  );
  if (flags.help) return console.log(TRIGGER_USAGE);
  const eventName = positionals[0];
  if (!eventName) throw new UsageError(`missing the event name\n\n${TRIGGER_USAGE}`);
  const payloadFromFile = flags.payload === undefined ? undefined : readPayload(flags.payload);
  const target = resolveAdminTarget(flags, process.env);
  const admin = apiOf(target);

  const entry = await catalogEvent(admin, eventName);

  let org = flags.org;
  if (org === undefined) {
    const key = flags['api-key'] || process.env.HERALD_API_KEY;
    if (!key) throw new UsageError('which organization? pass --org UUID, or an API key of it (--api-key, HERALD_API_KEY)');
    org = unwrap(await heraldApi(resolveUrl(flags.url, process.env), key).GET('/users/self')).organizationUuid;
  }
  const published = unwrap(
    await admin.POST('/admin/organizations/{organizationUuid}/events', {
      params: { path: { organizationUuid: org } },
      body: {
        eventName,
        payload: payloadFromFile ?? entry.example,
        ...(flags['message-id'] === undefined ? {} : { messageId: flags['message-id'] }),
      },
    }),
  );
  if (flags.json) return printJson({ eventName, organizationUuid: org, ...published });
  const to = published.deliveries === 1 ? '1 subscription' : `${published.deliveries} subscriptions`;
  console.log(
    published.duplicate
      ? `${eventName} ${published.messageId} was published before: nothing new sent`
      : `Published ${eventName} (messageId ${published.messageId}) to ${to}`,
  );
}
