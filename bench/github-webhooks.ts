/**
 * GitHub webhooks: signed deliveries applied per second at concurrency 64, ack after commit.
 *
 * Deliveries: GitHub's recorded payloads (@octokit/webhooks-examples: issues, issue_comment,
 * pull_request) made into BENCH_EVENTS (5,000) deliveries about 1,000 objects, each changed a few
 * times with later `updated_at`s, signed with @octokit/webhooks-methods as GitHub signs them.
 * The same bodies go to both servers:
 *
 * - Plugboard (`plugboard serve`, core and github plugins): acks 200 once the delivery is
 *   committed to `github.events`, then applies it; "applied" = every delivery `processed`
 *   (polled every 20 ms).
 * - The simplest correct handler (bench/peers/github-simple-handler.ts): verify, one
 *   `INSERT … ON CONFLICT` per delivery, ack; "applied" = every answer received.
 *
 * 64 senders (BENCH_CONCURRENCY) take the next delivery from a shared index over keep-alive
 * connections, so deliveries of one object may arrive out of order, as GitHub's do. Both servers
 * run on core 1 (unless BENCH_PIN=false) with a pool of 10, each round on a fresh database,
 * alternating which goes first; the figure is the median of the per-round ratios (BENCH_ROUNDS, 5).
 * Target: Plugboard >= 1.5x the peer.
 *
 * Run: npm run bench:github-webhooks
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { sign } from '@octokit/webhooks-methods';
import { pinning } from './support.ts';
import { compareWebhooks, type Delivery } from './webhooks-comparison.ts';

const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 5000);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 64);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const SECRET = randomBytes(24).toString('hex');
const CHANGES = 5;

type Payload = Record<string, unknown> & { action?: string };
const examples = createRequire(import.meta.url)('@octokit/webhooks-examples') as {
  name: string;
  examples: Payload[];
}[];
const example = (event: string, action: string) =>
  examples.find((group) => group.name === event)!.examples.find((e) => e.action === action)!;

/** BENCH_EVENTS deliveries: objects of three kinds, each opened then edited with later times. */
async function makeDeliveries(): Promise<Delivery[]> {
  const kinds = [
    { event: 'issues', key: 'issue', opened: example('issues', 'opened'), edited: example('issues', 'edited') },
    {
      event: 'issue_comment',
      key: 'comment',
      opened: example('issue_comment', 'created'),
      edited: example('issue_comment', 'edited'),
    },
    {
      event: 'pull_request',
      key: 'pull_request',
      opened: example('pull_request', 'opened'),
      edited: example('pull_request', 'synchronize'),
    },
  ];
  const objects = Math.ceil(EVENTS / CHANGES);
  const start = Date.UTC(2030, 0, 1);
  const deliveries: Delivery[] = [];
  for (let change = 0; change < CHANGES; change++) {
    for (let n = 0; n < objects && deliveries.length < EVENTS; n++) {
      const kind = kinds[n % kinds.length]!;
      const template = change === 0 ? kind.opened : kind.edited;
      const object = template[kind.key] as Record<string, unknown>;
      const payload = {
        ...template,
        [kind.key]: {
          ...object,
          id: 7_000_000_000 + n,
          title: `object ${n} change ${change}`,
          updated_at: new Date(start + (n * CHANGES + change) * 1000).toISOString(),
        },
      };
      const body = JSON.stringify(payload);
      deliveries.push({
        body,
        headers: {
          'content-type': 'application/json',
          'x-github-event': kind.event,
          'x-github-delivery': randomUUID(),
          'x-hub-signature-256': await sign(SECRET, body),
        },
      });
    }
  }
  return deliveries;
}

const deliveries = await makeDeliveries();
const expected = Math.ceil(EVENTS / CHANGES);
console.log(
  `GitHub webhooks, ${pinning} — ${deliveries.length} signed deliveries (issues, issue_comment, pull_request) about ${expected} objects, concurrency ${CONCURRENCY}, ${ROUNDS} rounds`,
);
await compareWebhooks({
  provider: 'GitHub',
  schema: 'github',
  path: '/webhooks/github',
  plugins: 'core,github',
  env: {
    GITHUB_WEBHOOK_SECRET: SECRET,
    GITHUB_TOKEN: `ghp_${'b'.repeat(36)}`,
    GITHUB_API_URL: 'http://127.0.0.1:9',
    GITHUB_SYNC_INTERVAL: '0',
  },
  peer: { script: 'bench/peers/github-simple-handler.ts', env: { GITHUB_WEBHOOK_SECRET: SECRET } },
  objects: {
    plugboard:
      'SELECT (SELECT count(*) FROM github.issues) + (SELECT count(*) FROM github.issue_comments) + (SELECT count(*) FROM github.pull_requests) AS n',
    peer: 'SELECT count(*) AS n FROM github_objects',
  },
  expected,
  deliveries,
  concurrency: CONCURRENCY,
  rounds: ROUNDS,
});
