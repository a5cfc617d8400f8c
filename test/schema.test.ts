import { readFileSync } from 'node:fs';
import { printSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { SCHEMA_FILE } from '../gateway/cli.ts';
import { buildSubschema, composeSchema, printComposedSchema, SchemaConflictError } from '../gateway/plugin/compose.ts';
import { instantiatePlugins } from '../gateway/plugin/services.ts';
import { selectAll } from '../gateway/plugin/selection.ts';
import { registry } from '../plugins/registry.ts';

describe('composed schema', () => {
  it('schema/schema.graphql is current (run `npm run schema` after changing a plugin schema)', async () => {
    const expected = printComposedSchema(await instantiatePlugins(selectAll(registry)).schema());
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(expected);
  });

  it('merges subschemas, sharing identical types and dropping empty root types', () => {
    const a = buildSubschema('a', (builder) => {
      builder.queryField('fromA', (t) => t.field({ type: 'DateTime', resolve: () => new Date(0) }));
    });
    const b = buildSubschema('b', (builder) => {
      builder.queryField('fromB', (t) => t.string({ resolve: () => 'b' }));
      builder.mutationField('doB', (t) => t.boolean({ resolve: () => true }));
    });
    const sdl = printSchema(composeSchema([a, b]));
    expect(sdl).toContain('fromA: DateTime!');
    expect(sdl).toContain('fromB: String!');
    expect(sdl).toContain('doB: Boolean!');
    expect(sdl).not.toContain('type Subscription');
    expect(printSchema(a.schema)).not.toContain('type Mutation');
  });

  it('refuses two plugins defining the same root field', () => {
    const one = buildSubschema('one', (builder) =>
      builder.queryField('status', (t) => t.string({ resolve: () => '1' })),
    );
    const two = buildSubschema('two', (builder) =>
      builder.queryField('status', (t) => t.string({ resolve: () => '2' })),
    );
    expect(() => composeSchema([one, two])).toThrow(SchemaConflictError);
    expect(() => composeSchema([one, two])).toThrow(/Query\.status is defined by both one and two/);
  });

  it('refuses two plugins defining one type differently', () => {
    const one = buildSubschema('one', (builder) => {
      const Thing = builder
        .objectRef<{ a: string }>('Thing')
        .implement({ fields: (t) => ({ a: t.exposeString('a') }) });
      builder.queryField('thingOne', (t) => t.field({ type: Thing, resolve: () => ({ a: 'x' }) }));
    });
    const two = buildSubschema('two', (builder) => {
      const Thing = builder.objectRef<{ b: number }>('Thing').implement({ fields: (t) => ({ b: t.exposeInt('b') }) });
      builder.queryField('thingTwo', (t) => t.field({ type: Thing, resolve: () => ({ b: 1 }) }));
    });
    expect(() => composeSchema([one, two])).toThrow(/type Thing is defined differently by one and two/);
  });
});
