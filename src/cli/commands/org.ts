import { unwrap } from '../api-client.js';
import { UsageError } from '../usage-error.js';
import { parseFlags, printJson, requireFlag, TARGET_HELP, TARGET_OPTIONS, adminApi } from './common.js';

export const ORG_USAGE = `Usage:
  herald org create --name NAME    create an organization
  herald org list                  list organizations

Options:
${TARGET_HELP}`;

/** `herald org create|list`: calls the admin API of a running Herald. */
export async function orgCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'create': {
      const flags = parseFlags(rest, { ...TARGET_OPTIONS, name: { type: 'string' } });
      if (flags.help) return console.log(ORG_USAGE);
      const name = requireFlag(flags.name, '--name');
      const org = unwrap(await adminApi(flags).POST('/admin/organizations', { body: { name } }));
      if (flags.json) return printJson(org);
      console.log(`Created organization "${org.name}"\n  organizationUuid  ${org.organizationUuid}`);
      return;
    }
    case 'list': {
      const flags = parseFlags(rest, TARGET_OPTIONS);
      if (flags.help) return console.log(ORG_USAGE);
      const orgs = unwrap(await adminApi(flags).GET('/admin/organizations'));
      if (flags.json) return printJson(orgs);
      if (orgs.length === 0) return console.log('No organizations.');
      for (const o of orgs) console.log(`${o.organizationUuid}  ${o.name}`);
      return;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(ORG_USAGE);
      return;
    default:
      throw new UsageError(`unknown org command "${sub}"\n\n${ORG_USAGE}`);
  }
}
