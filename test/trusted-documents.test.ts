/**
 * Trusted documents (PLUGBOARD_DOCUMENTS, PLUGBOARD_TRUSTED_DOCUMENTS): manifests as codegen and
 * Apollo write them, who may send text in each mode, the same answers over HTTP and graphql-ws,
 * Hasura actions unaffected, and a manifest reloaded (in process and by SIGHUP to `plugboard
 * serve`) without dropping a socket.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, test, vi } from 'vitest';
import WebSocket from 'ws';
import { createLogger } from '../gateway/logger.ts';
import {
  type DocumentsMode,
  loadManifests,
  type OperationParams,
  TrustedDocuments,
} from '../gateway/http/trusted-documents.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';
import { runCli, serveGateway, type ServingGateway } from './support/processes.ts';
import { ADMIN_SECRET, JWT_SECRET, signToken } from './support/tokens.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const VIEWER = 'query Viewer { viewer { role userId } }';
const VIEWER_ID = `sha256:${sha256(VIEWER)}`;
const EXTRA = 'query Extra { viewer { role } }';
const EXTRA_ID = `sha256:${sha256(EXTRA)}`;
const PRESENCE = 'subscription RoomPresence($roomId: ID!) { presence(roomId: $roomId) { status userId } }';
const ACTION_SECRET = 'trusted-documents-action-secret';

let directory: string;
let db: TestDatabase;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'plugboard-trusted-'));
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
  await rm(directory, { recursive: true, force: true });
});

/** Writes a codegen-style manifest (`{ "sha256:<hex>": text }`) of these documents and returns its path. */
async function manifest(name: string, documents: readonly string[]): Promise<string> {
  const path = join(directory, name);
  await writeFile(path, JSON.stringify(Object.fromEntries(documents.map((d) => [`sha256:${sha256(d)}`, d]))));
  return path;
}

describe('manifests', () => {
  it("reads codegen's map and Apollo's manifest, keeping a sha256 id by its bare hex too", async () => {
    const codegen = await manifest('codegen.json', [VIEWER]);
    const apollo = join(directory, 'apollo.json');
    await writeFile(
      apollo,
      JSON.stringify({
        format: 'apollo-persisted-query-manifest',
        version: 1,
        operations: [{ id: sha256(EXTRA), name: 'Extra', type: 'query', body: EXTRA }],
      }),
    );
    const documents = await loadManifests([codegen, apollo]);
    expect(documents.get(VIEWER_ID)).toBe(VIEWER);
    expect(documents.get(sha256(VIEWER))).toBe(VIEWER);
    expect(documents.get(EXTRA_ID)).toBe(EXTRA);
  });

  it('reads a manifest from a URL', async () => {
    const body = JSON.stringify({ [VIEWER_ID]: VIEWER });
    const server: Server = createServer((_request, response) => response.end(body));
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    try {
      const { port } = server.address() as AddressInfo;
      expect((await loadManifests([`http://127.0.0.1:${port}/documents.json`])).get(VIEWER_ID)).toBe(VIEWER);
    } finally {
      server.close();
    }
  });

  test.each([
    ['a sha256 id that is not the hash of its text', { [VIEWER_ID]: EXTRA }, /is not the sha256 of its document/],
    ['a value that is not a string', { [VIEWER_ID]: 42 }, /is not a document string/],
    ['an array', [VIEWER], /not a JSON object/],
    ['an Apollo manifest without operations', { format: 'apollo-persisted-query-manifest' }, /no operations array/],
  ])('refuses %s, naming the file', async (_case, content, message) => {
    const path = join(directory, 'bad.json');
    await writeFile(path, JSON.stringify(content));
    await expect(loadManifests([path])).rejects.toThrow(message);
    await expect(loadManifests([path])).rejects.toThrow(path);
  });

  it('refuses a missing file and text that is not JSON', async () => {
    await expect(loadManifests([join(directory, 'missing.json')])).rejects.toThrow(
      /cannot read .*missing\.json: ENOENT/,
    );
    const path = join(directory, 'not-json.json');
    await writeFile(path, '{ nope');
    await expect(loadManifests([path])).rejects.toThrow(/not-json\.json is not JSON/);
  });
});

describe('who may run what (TrustedDocuments.resolve, for HTTP and graphql-ws)', () => {
  const modes = new Map<DocumentsMode, TrustedDocuments>();
  beforeAll(async () => {
    const path = await manifest('rules.json', [VIEWER]);
    for (const mode of ['any', 'trusted', 'trusted-strict'] as const) {
      modes.set(mode, new TrustedDocuments(mode, [path], createLogger('silent')));
      await modes.get(mode)!.load();
    }
  });
  const sent: Record<string, OperationParams> = {
    'its documentId': { query: '', documentId: VIEWER_ID },
    'its APQ hash': { query: '', extensions: { persistedQuery: { version: 1, sha256Hash: sha256(VIEWER) } } },
    text: { query: EXTRA },
    'an unknown id': { documentId: 'sha256:0000' },
    'a 5,000-character id': { documentId: 'x'.repeat(5000) },
    'neither text nor id': { query: '' },
  };

  test.each([
    ['any', false, 'its documentId', VIEWER],
    ['any', false, 'its APQ hash', VIEWER],
    ['any', false, 'text', EXTRA],
    ['any', false, 'an unknown id', 'PERSISTED_QUERY_NOT_FOUND'],
    ['any', false, 'a 5,000-character id', 'PERSISTED_QUERY_NOT_FOUND'],
    ['any', false, 'neither text nor id', 'BAD_REQUEST'],
    ['trusted', false, 'its documentId', VIEWER],
    ['trusted', false, 'its APQ hash', VIEWER],
    ['trusted', false, 'text', 'PERSISTED_QUERY_ONLY'],
    ['trusted', true, 'text', EXTRA],
    ['trusted', false, 'an unknown id', 'PERSISTED_QUERY_NOT_FOUND'],
    ['trusted-strict', true, 'its documentId', VIEWER],
    ['trusted-strict', true, 'text', 'PERSISTED_QUERY_ONLY'],
    ['trusted-strict', false, 'text', 'PERSISTED_QUERY_ONLY'],
  ] as const)('%s, admin %s, sending %s → %s', (mode, admin, what, expected) => {
    const outcome = modes.get(mode)!.resolve(sent[what]!, admin, 'ws');
    expect(typeof outcome === 'string' ? outcome : outcome.extensions['code']).toBe(expected);
  });

  it('echoes no more than 32 characters of an overlong id', () => {
    const outcome = modes.get('any')!.resolve(sent['a 5,000-character id']!, false, 'http');
    expect(typeof outcome === 'string' ? outcome : outcome.message.length).toBeLessThan(200);
  });
});

/** Hasura calling the markNotificationsRead action for user ann, as it does (its documented payload). */
const markReadAction = (url: string) =>
  fetch(`${url}/hasura/actions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-plugboard-action-secret': ACTION_SECRET },
    body: JSON.stringify({
      action: { name: 'markNotificationsRead' },
      input: { all: true },
      session_variables: { 'x-hasura-role': 'user', 'x-hasura-user-id': 'ann' },
    }),
  });

/** A graphql-transport-ws socket spoken frame by frame, for payloads the graphql-ws client will not send. */
async function rawSocket(url: string, connectionParams: Record<string, unknown>) {
  const socket = new WebSocket(url, 'graphql-transport-ws');
  const frames: { id?: string; type: string; payload?: unknown }[] = [];
  socket.on('message', (data) => frames.push(JSON.parse(data.toString())));
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  socket.send(JSON.stringify({ type: 'connection_init', payload: connectionParams }));
  await vi.waitFor(() => expect(frames.map((f) => f.type)).toContain('connection_ack'));
  let next = 0;
  return {
    socket,
    /** Sends a subscribe with this payload; resolves with its first `next` or `error` frame's payload. */
    async operate(payload: Record<string, unknown>): Promise<{ type: string; payload: unknown }> {
      const id = String(++next);
      socket.send(JSON.stringify({ id, type: 'subscribe', payload }));
      return vi.waitFor(() => {
        const frame = frames.find((f) => f.id === id && (f.type === 'next' || f.type === 'error'));
        expect(frame).toBeDefined();
        return { type: frame!.type, payload: frame!.payload };
      });
    },
  };
}

describe('a gateway in trusted mode', () => {
  let gateway: TestGateway;
  let manifestPath: string;
  let userHeaders: Record<string, string>;
  const admin = { 'x-hasura-admin-secret': ADMIN_SECRET };

  beforeAll(async () => {
    manifestPath = await manifest('served.json', [VIEWER, PRESENCE]);
    gateway = await startTestGateway({
      databaseUrl: db.url,
      env: {
        PLUGBOARD_DOCUMENTS: 'trusted',
        PLUGBOARD_TRUSTED_DOCUMENTS: manifestPath,
        HASURA_ACTION_SECRET: ACTION_SECRET,
      },
    });
    userHeaders = { authorization: `Bearer ${await signToken({ userId: 'ann' })}` };
  });

  afterAll(async () => {
    await gateway?.close();
  });

  const post = async (body: Record<string, unknown>, headers: Record<string, string> = userHeaders) => {
    const response = await fetch(gateway.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('runs a document by documentId, by GET, and by APQ hash', async () => {
    const viewer = { data: { viewer: { role: 'user', userId: 'ann' } } };
    expect(await post({ documentId: VIEWER_ID })).toEqual({ status: 200, body: viewer });
    const get = await fetch(`${gateway.graphqlUrl}?documentId=${encodeURIComponent(VIEWER_ID)}`, {
      headers: { ...userHeaders, 'graphql-preflight': '1' },
    });
    expect(await get.json()).toEqual(viewer);
    const apq = await post({ extensions: { persistedQuery: { version: 1, sha256Hash: sha256(VIEWER) } } });
    expect(apq).toEqual({ status: 200, body: viewer });
  });

  it('refuses text, an unknown id, and a request with neither, each with its code; an admin may send text', async () => {
    const text = await post({ query: EXTRA });
    expect(text.status).toBe(400);
    expect(text.body).toEqual({
      errors: [expect.objectContaining({ extensions: { code: 'PERSISTED_QUERY_ONLY' } })],
    });
    const unknown = await post({ documentId: EXTRA_ID });
    expect(unknown.status).toBe(400);
    expect(unknown.body['errors']).toEqual([
      expect.objectContaining({
        message: expect.stringContaining(EXTRA_ID),
        extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' },
      }),
    ]);
    expect((await post({ variables: {} })).body['errors']).toEqual([
      expect.objectContaining({ extensions: { code: 'BAD_REQUEST' } }),
    ]);
    expect(await post({ query: EXTRA }, admin)).toEqual({ status: 200, body: { data: { viewer: { role: 'admin' } } } });
  });

  it('applies the same rules over graphql-ws', async () => {
    const user = await rawSocket(gateway.wsUrl, userHeaders);
    try {
      expect(await user.operate({ documentId: VIEWER_ID })).toEqual({
        type: 'next',
        payload: { data: { viewer: { role: 'user', userId: 'ann' } } },
      });
      const apq = await user.operate({
        query: '',
        extensions: { persistedQuery: { version: 1, sha256Hash: sha256(VIEWER) } },
      });
      expect(apq.type).toBe('next');
      expect(await user.operate({ query: EXTRA })).toEqual({
        type: 'error',
        payload: [expect.objectContaining({ extensions: { code: 'PERSISTED_QUERY_ONLY' } })],
      });
      expect(await user.operate({ documentId: EXTRA_ID })).toEqual({
        type: 'error',
        payload: [expect.objectContaining({ extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } })],
      });
      expect(user.socket.readyState).toBe(WebSocket.OPEN);
    } finally {
      user.socket.close();
    }
    const adminSocket = await rawSocket(gateway.wsUrl, admin);
    try {
      expect((await adminSocket.operate({ query: EXTRA })).type).toBe('next');
    } finally {
      adminSocket.socket.close();
    }
  });

  it('runs Hasura actions, whose documents the gateway writes itself', async () => {
    const response = await markReadAction(gateway.url);
    expect(response.status).toBe(200);
  });

  it('adds a document on reload without dropping a socket; a manifest that fails keeps the set', async () => {
    const user = await rawSocket(gateway.wsUrl, userHeaders);
    try {
      expect((await user.operate({ documentId: EXTRA_ID })).type).toBe('error');
      await manifest('served.json', [VIEWER, PRESENCE, EXTRA]);
      expect(await gateway.reloadTrustedDocuments()).toBe(true);
      expect(await user.operate({ documentId: EXTRA_ID })).toEqual({
        type: 'next',
        payload: { data: { viewer: { role: 'user' } } },
      });
      expect((await post({ documentId: EXTRA_ID })).status).toBe(200);

      await writeFile(manifestPath, '{ broken');
      expect(await gateway.reloadTrustedDocuments()).toBe(false);
      expect((await user.operate({ documentId: EXTRA_ID })).type).toBe('next');
      expect(user.socket.readyState).toBe(WebSocket.OPEN);
    } finally {
      user.socket.close();
      await manifest('served.json', [VIEWER, PRESENCE]);
    }
  });
});

describe('a gateway in trusted-strict mode', () => {
  it('refuses text from admins too, and still runs Hasura actions', async () => {
    const gateway = await startTestGateway({
      databaseUrl: db.url,
      env: {
        PLUGBOARD_DOCUMENTS: 'trusted-strict',
        PLUGBOARD_TRUSTED_DOCUMENTS: await manifest('strict.json', [VIEWER]),
        HASURA_ACTION_SECRET: ACTION_SECRET,
      },
    });
    try {
      const admin = { 'x-hasura-admin-secret': ADMIN_SECRET };
      const text = await gateway.gql(EXTRA, { headers: admin });
      expect(text.body.errors).toEqual([expect.objectContaining({ extensions: { code: 'PERSISTED_QUERY_ONLY' } })]);
      const socket = await rawSocket(gateway.wsUrl, admin);
      try {
        expect((await socket.operate({ query: EXTRA })).payload).toEqual([
          expect.objectContaining({ extensions: { code: 'PERSISTED_QUERY_ONLY' } }),
        ]);
        expect((await socket.operate({ documentId: VIEWER_ID })).type).toBe('next');
      } finally {
        socket.socket.close();
      }
      const action = await markReadAction(gateway.url);
      expect(action.status).toBe(200);
    } finally {
      await gateway.close();
    }
  });
});

describe('plugboard serve', () => {
  let served: ServingGateway | undefined;
  afterAll(async () => {
    await served?.stop();
  });

  it('reads the manifests again on SIGHUP, keeping its sockets', async () => {
    const path = await manifest('sighup.json', [VIEWER]);
    served = await serveGateway({
      DATABASE_URL: db.url,
      PLUGBOARD_JWT_SECRET: JWT_SECRET,
      PLUGBOARD_DOCUMENTS: 'trusted',
      PLUGBOARD_TRUSTED_DOCUMENTS: path,
    });
    const token = await signToken({ userId: 'ann' });
    const socket = await rawSocket(`${served.url.replace(/^http/, 'ws')}/graphql`, {
      Authorization: `Bearer ${token}`,
    });
    try {
      expect((await socket.operate({ documentId: EXTRA_ID })).type).toBe('error');
      await manifest('sighup.json', [VIEWER, EXTRA]);
      served.child.kill('SIGHUP');
      await vi.waitFor(() => expect(served!.output()).toMatch(/"documents":2[^\n]*trusted documents loaded/));
      expect((await socket.operate({ documentId: EXTRA_ID })).type).toBe('next');
      expect(socket.socket.readyState).toBe(WebSocket.OPEN);
    } finally {
      socket.socket.close();
    }
  });

  it('stops at start-up on a manifest it cannot use, naming the variable, without a stack trace', async () => {
    const run = await runCli(['serve'], {
      DATABASE_URL: db.url,
      PORT: '0',
      PLUGBOARD_DOCUMENTS: 'trusted',
      PLUGBOARD_TRUSTED_DOCUMENTS: join(directory, 'nowhere.json'),
    });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/PLUGBOARD_TRUSTED_DOCUMENTS \(gateway\): cannot read .*nowhere\.json: ENOENT/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});

it("loads the codegen'd client's manifest, the default one: every id is its document's sha256", async () => {
  const path = 'client/generated/persisted-documents.json';
  const generated = Object.keys(JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>);
  const documents = await loadManifests([path]);
  expect(generated.length).toBeGreaterThan(0);
  for (const id of generated) expect(documents.has(id)).toBe(true);
});
