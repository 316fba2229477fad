// Prints the settings table of docs/configuration.md from the config schema:
//   npx tsx scripts/config-doc.ts
import { describeSettings } from '../src/config.js';

console.log('| Variable | Default | Meaning |\n| --- | --- | --- |');
for (const s of describeSettings()) {
  console.log(`| \`${s.env}\` | ${s.default.replaceAll('|', '\\|')} | ${s.description.replaceAll('|', '\\|')} |`);
}
