/**
 * Starts a sync through GraphQL (`sync<Prefix>`) and waits until its run ends (polled through
 * `<prefix>SyncRun`); usable in beforeAll, where expect.poll is not.
 */
import { expect, vi } from 'vitest';
import type { TestGateway } from './gateway.ts';

export async function syncThroughGraphql(
  gateway: TestGateway,
  headers: Record<string, string>,
  prefix: 'Stripe' | 'Github',
  variables: { resources?: string[]; full?: boolean } = {},
): Promise<{ status: string; error: string | null }> {
  const lower = prefix.toLowerCase();
  const gql = async <T>(query: string, vars: Record<string, unknown>) => {
    const { body } = await gateway.gql(query, { variables: vars, headers });
    expect(body.errors).toBeUndefined();
    return body.data as T;
  };
  const started = await gql<Record<string, { id: string; status: string }>>(
    `mutation($resources: [String!], $full: Boolean) { sync${prefix}(resources: $resources, full: $full) { id status } }`,
    variables,
  );
  const { id, status } = started[`sync${prefix}`]!;
  expect(status).toBe('running');
  const run = async () =>
    (
      await gql<Record<string, { status: string; error: string | null }>>(
        `query($id: ID!) { ${lower}SyncRun(id: $id) { status error } }`,
        { id },
      )
    )[`${lower}SyncRun`]!;
  await vi.waitFor(async () => expect((await run()).status).not.toBe('running'), { timeout: 50_000, interval: 50 });
  return run();
}
