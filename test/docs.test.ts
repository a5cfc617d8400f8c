import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { listVariables } from '../gateway/config/variables.ts';
import { ErrorCode } from '../gateway/errors.ts';
import { selectAll } from '../gateway/plugin/selection.ts';
import { gatewaySettingsSpec } from '../gateway/config/settings.ts';
import { registry } from '../plugins/registry.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('documents every gateway variable in the configuration table', () => {
    for (const { key } of listVariables(gatewaySettingsSpec))
      expect(readme, key).toMatch(new RegExp(`^\\| \`${key}\` \\|`, 'm'));
  });

  it('documents every error code', () => {
    for (const code of Object.values(ErrorCode)) expect(readme, code).toMatch(new RegExp(`^\\| \`${code}\` \\|`, 'm'));
  });

  it('names every registered plugin', () => {
    for (const { manifest } of selectAll(registry)) expect(readme).toContain(`\`${manifest.name}\``);
  });

  // The example plugin of "Adding a plugin" (test/example-plugin.test.ts runs it) is shown as it is.
  it.each([
    ['index.ts', 'ts'],
    ['plugin.json', 'json'],
    ['migrations/001_bookmarks.sql', 'sql'],
    ['sql/bookmark-save.sql', 'sql'],
  ])('shows examples/plugins/bookmarks/%s exactly as it is', (file, language) => {
    const code = readFileSync(new URL(`../examples/plugins/bookmarks/${file}`, import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Adding a plugin\n'), readme.indexOf('## Tests\n'));
    expect(section).toContain(`\n\`\`\`${language}\n${code}\`\`\`\n`);
  });

  it('gives the test command that CI runs', () => {
    expect(readme).toContain('npm test');
    expect(readFileSync(new URL('../.ci/run', import.meta.url), 'utf8')).toMatch(/^npm test$/m);
  });
});
