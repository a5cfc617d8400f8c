/**
 * SQL lives in .sql files next to the code that runs it. `sqlFolder(url)` returns a reader that
 * loads `<folder>/<name>.sql` once and keeps it.
 */
import { readFileSync } from 'node:fs';

export function sqlFolder(folder: URL): (name: string) => string {
  const cache = new Map<string, string>();
  return (name) => {
    let text = cache.get(name);
    if (text === undefined) {
      // Whole-line comments document the file; they need not travel with every query.
      text = readFileSync(new URL(`${name}.sql`, folder), 'utf8')
        .split('\n')
        .filter((line) => !line.trimStart().startsWith('--'))
        .join('\n')
        .trim();
      cache.set(name, text);
    }
    return text;
  };
}

export const gatewaySql = sqlFolder(new URL('./sql/', import.meta.url));
