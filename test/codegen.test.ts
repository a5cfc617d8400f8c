import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from '@graphql-codegen/cli';
import { describe, expect, it } from 'vitest';
import config from '../codegen.ts';

describe('typed client (codegen.ts)', () => {
  it('client/generated is current (run `npm run codegen` after changing the schema or client/operations)', async () => {
    const root = new URL('..', import.meta.url).pathname;
    const outputs = await generate({ ...config, cwd: root, silent: true }, false);
    expect(outputs.length).toBeGreaterThan(0);
    for (const output of outputs) {
      expect(readFileSync(join(root, output.filename), 'utf8'), output.filename).toBe(output.content);
    }
  }, 60_000);
});
