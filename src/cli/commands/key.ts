import { unwrap } from '../api-client.js';
import { UsageError } from '../usage-error.js';
import { listOf, parseFlags, printJson, requireFlag, TARGET_HELP, TARGET_OPTIONS, adminApi } from './common.js';

export const KEY_USAGE = `Usage:
  herald key create --org UUID --scopes SCOPE[,SCOPE...] [--name NAME] [--test-mode]
                                   create an API key (its secret is printed once)
  herald key list --org UUID       list an organization's API keys (never their secrets)
  herald key delete --org UUID --key API_KEY_ID
                                   revoke an API key

Options:
${TARGET_HELP}`;

const mode = (k: { livemode: boolean }) => (k.livemode ? 'live' : 'test');

/** `herald key create|list|delete`: calls the admin API of a running Herald. */
export async function keyCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'create': {
      const flags = parseFlags(rest, {
        ...TARGET_OPTIONS,
        org: { type: 'string' },
        scopes: { type: 'string' },
        name: { type: 'string' },
        'test-mode': { type: 'boolean', default: false },
      });
      if (flags.help) return console.log(KEY_USAGE);
      const org = requireFlag(flags.org, '--org');
      const scopes = listOf(requireFlag(flags.scopes, '--scopes'));
      const body = { scopes, livemode: !flags['test-mode'], ...(flags.name === undefined ? {} : { name: flags.name }) };
      const key = unwrap(
        await adminApi(flags).POST('/admin/organizations/{organizationUuid}/api-keys', { params: { path: { organizationUuid: org } }, body }),
      );
      if (flags.json) return printJson(key);
      console.log(
        [
          `Created API key "${key.name}" for organization ${key.organizationUuid}`,
          `  apiKeyId  ${key.apiKeyId}`,
          `  scopes    ${key.scopes.join(', ') || '(none)'}`,
          `  mode      ${mode(key)}`,
          `  apiKey    ${key.apiKey}`,
          '',
          'Store the API key now: Herald keeps only its hash and cannot show it again.',
        ].join('\n'),
      );
      return;
    }
    case 'list': {
      const flags = parseFlags(rest, { ...TARGET_OPTIONS, org: { type: 'string' } });
      if (flags.help) return console.log(KEY_USAGE);
      const org = requireFlag(flags.org, '--org');
      const keys = unwrap(await adminApi(flags).GET('/admin/organizations/{organizationUuid}/api-keys', { params: { path: { organizationUuid: org } } }));
      if (flags.json) return printJson(keys);
      if (keys.length === 0) return console.log('No API keys.');
      for (const k of keys) {
        console.log(`${k.apiKeyId}  ${k.prefix}  ${mode(k)}  ${k.scopes.join(',') || '-'}  ${k.name}`);
      }
      return;
    }
    case 'delete': {
      const flags = parseFlags(rest, { ...TARGET_OPTIONS, org: { type: 'string' }, key: { type: 'string' } });
      if (flags.help) return console.log(KEY_USAGE);
      const org = requireFlag(flags.org, '--org');
      const id = requireFlag(flags.key, '--key');
      unwrap(
        await adminApi(flags).DELETE('/admin/organizations/{organizationUuid}/api-keys/{apiKeyId}', {
          params: { path: { organizationUuid: org, apiKeyId: id } },
        }),
      );
      if (flags.json) return printJson({ apiKeyId: id, deleted: true });
      console.log(`Revoked API key ${id}`);
      return;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(KEY_USAGE);
      return;
    default:
      throw new UsageError(`unknown key command "${sub}"\n\n${KEY_USAGE}`);
  }
}
