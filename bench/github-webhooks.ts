/**
 * GitHub webhooks: signed deliveries applied per second at concurrency 64, ack after commit.
 *
 * Deliveries: GitHub's recorded payloads (@octokit/webhooks-examples: issues, issue_comment,
 * pull_request) made into BENCH_EVENTS (5,000) deliveries about 1,000 objects, each changed a few
 * times with later `updated_at`s, signed with @octokit/webhooks-methods as GitHub signs them.
 * The same bodies go to both servers:
 *
 * - Plugboard (`plugboard serve`, core and github plugins): logs each batch of concurrent
 *   deliveries in `github.events` and applies it in the same statement, then acks 200;
 *   "applied" = every delivery `processed` (polled every 20 ms; by then they all are).
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
import { randomBytes } from 'node:crypto';
import { githubDeliveries } from '../test/support/webhook-load.ts';
import { pinning } from './support.ts';
import { compareWebhooks } from './webhooks-comparison.ts';

const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 5000);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 64);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const SECRET = randomBytes(24).toString('hex');
const CHANGES = 5;

const deliveries = await githubDeliveries(SECRET, EVENTS, CHANGES);
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
