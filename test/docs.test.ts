import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { listVariables } from '../gateway/config/variables.ts';
import { ERRORS } from '../gateway/errors.ts';
import { selectAll } from '../gateway/plugin/selection.ts';
import { gatewaySettingsSpec } from '../gateway/config/settings.ts';
import { registry } from '../plugins/registry.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('documents every gateway variable in the configuration table', () => {
    for (const { key } of listVariables(gatewaySettingsSpec))
      expect(readme, key).toMatch(new RegExp(`^\\| \`${key}\` \\|`, 'm'));
  });

  it("lists exactly the catalog's error codes, the gateway's and every plugin's, with their statuses", () => {
    const section = readme.slice(
      readme.indexOf('\n## Errors\n'),
      readme.indexOf('\n## ', readme.indexOf('\n## Errors\n') + 1),
    );
    const documented = [...section.matchAll(/^\| `([A-Z0-9_]+)` \| (\S+) \| (\d{3}) \|/gm)].map(
      ([, code, plugin, status]) => `${code} ${plugin} ${status}`,
    );
    const catalog = [
      ...Object.values(ERRORS).map(({ code, status }) => `${code} gateway ${status}`),
      ...selectAll(registry).flatMap(({ manifest, plugin }) =>
        Object.entries(plugin.errors ?? {}).map(([code, { status }]) => `${code} ${manifest.name} ${status}`),
      ),
    ];
    expect(documented.sort()).toEqual(catalog.sort());
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
