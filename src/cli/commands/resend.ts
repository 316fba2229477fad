import { unwrap } from '../api-client.js';
import { UsageError } from '../usage-error.js';
import { KEY_HELP, KEY_OPTIONS, keyApi, parseFlags, printJson, uuidFlag } from './common.js';

export const RESEND_USAGE = `Usage: herald resend --subscription UUID (--message MESSAGE_ID | --all)

  Sends messages of a subscription again now, with a fresh retry schedule: one message,
  or every undelivered one (failed, cancelled, or waiting for a retry).

Options:
  --subscription UUID  the subscription
  --message ID         the messageId to send again (herald tail and the attempt log show it)
  --all                every undelivered message of the subscription
${KEY_HELP}`;

/** `herald resend`: one message, or every undelivered one, of a subscription. */
export async function resendCommand(args: string[]): Promise<void> {
  const flags = parseFlags(args, { ...KEY_OPTIONS, subscription: { type: 'string' }, message: { type: 'string' }, all: { type: 'boolean', default: false } });
  if (flags.help) return console.log(RESEND_USAGE);
  const subscriptionUuid = uuidFlag(flags.subscription, '--subscription');
  if ((flags.message === undefined) === !flags.all) throw new UsageError('pass exactly one of --message ID and --all');
  // A message id is one path segment: never empty, never a dot segment a URL would resolve away.
  if (flags.message !== undefined && !/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/.test(flags.message)) {
    throw new UsageError(`--message must be a messageId (letters, digits, - _ .), got "${flags.message}"`);
  }
  const api = keyApi(flags);
  const path = { organizationUuid: 'self', subscriptionUuid };
  const r = flags.all
    ? unwrap(await api.POST('/organizations/{organizationUuid}/subscriptions/{subscriptionUuid}/resend', { params: { path } }))
    : unwrap(
        await api.POST('/organizations/{organizationUuid}/subscriptions/{subscriptionUuid}/messages/{messageId}/resend', {
          params: { path: { ...path, messageId: flags.message! } },
        }),
      );
  if (flags.json) return printJson(r);
  console.log(r.resent === 1 ? 'Resending 1 message' : `Resending ${r.resent} messages`);
}
