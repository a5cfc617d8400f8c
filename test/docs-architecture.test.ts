/**
 * README "Architecture" names the gateway's folders and the files each holds; this keeps that map
 * true: everything it names exists, and every folder of gateway/ has a row.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = new URL('../', import.meta.url);
const repo = fileURLToPath(root);
const readme = readFileSync(new URL('README.md', root), 'utf8');
const architecture = readme.slice(
  readme.indexOf('## Architecture'),
  readme.indexOf('\n## ', readme.indexOf('## Architecture') + 1),
);
const rows = [...architecture.matchAll(/^\| (.+?) \| (.+) \|$/gm)]
  .map(([, path, holds]) => ({ paths: [...path!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!), holds: holds! }))
  .filter((row) => row.paths.length > 0);
const named = (holds: string) => [...holds.matchAll(/`([\w.-]+\.(?:ts|json|sql)|[\w.-]+\/)`/g)].map((m) => m[1]!);

describe('README architecture', () => {
  it('has a row per folder', () => expect(rows.length).toBeGreaterThan(8));

  it.each(rows.flatMap((row) => row.paths.filter((path) => !path.includes('<'))))('%s exists', (path) => {
    expect(existsSync(new URL(path, root))).toBe(true);
  });

  it.each(
    rows
      .filter((row) => row.paths.length === 1 && row.paths[0]!.endsWith('/') && !row.paths[0]!.includes('<'))
      .flatMap((row) => named(row.holds).map((file) => `${row.paths[0]}${file}`)),
  )('%s exists', (path) => {
    expect(existsSync(new URL(path, root))).toBe(true);
  });

  it('lists every folder of gateway/', () => {
    const folders = readdirSync(new URL('gateway/', root), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => `${relative(repo, join(entry.parentPath, entry.name))}/`);
    const listed = rows.flatMap((row) => row.paths);
    expect(folders.filter((folder) => !listed.includes(folder))).toEqual([]);
  });
});
