import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { ConfigError, missingRequired, readConfig, type ConfigurationSpec } from '../gateway/config/variables.ts';
import { definePlugin, type Plugin } from '../gateway/plugin/contract.ts';
import { selectPlugins } from '../gateway/plugin/selection.ts';
import { loadGatewaySettings } from '../gateway/config/settings.ts';
import { registry } from '../plugins/registry.ts';
import echo from './support/echo-plugin/index.ts';
import { ECHO_API_KEY } from './support/gateway.ts';

const CLIENT_MANIFEST = fileURLToPath(new URL('../client/generated/persisted-documents.json', import.meta.url));

const spec: ConfigurationSpec = {
  required: ['KEY'],
  optional: ['COUNT', 'RATIO', 'FLAG', 'MODE', 'HOOK'],
  schema: {
    KEY: { type: 'string', secret: true, validation: '^k_[a-z]{8}$', description: 'the key' },
    COUNT: { type: 'integer', min: 15, max: 1440, default: 60 },
    RATIO: { type: 'number', min: 0, max: 1 },
    FLAG: { type: 'boolean', default: false },
    MODE: { type: 'string', enum: ['fast', 'safe'], default: 'safe' },
    HOOK: { type: 'url' },
  },
};

describe('configuration from the environment', () => {
  it('parses typed values and applies defaults', () => {
    const { values, problems } = readConfig(
      spec,
      { KEY: 'k_abcdefgh', RATIO: '0.25', FLAG: 'yes', HOOK: 'https://example.test/x' },
      'test',
    );
    expect(problems).toEqual([]);
    expect(values.string('KEY')).toBe('k_abcdefgh');
    expect(values.number('COUNT')).toBe(60);
    expect(values.number('RATIO')).toBe(0.25);
    expect(values.boolean('FLAG')).toBe(true);
    expect(values.string('MODE')).toBe('safe');
    expect(values.optionalString('HOOK')).toBe('https://example.test/x');
  });

  it('names every bad variable and what it expects, never quoting a secret', () => {
    const secret = 'k_NOT-VALID-super-secret';
    const { problems } = readConfig(
      spec,
      { KEY: secret, COUNT: '5', RATIO: 'lots', FLAG: 'maybe', MODE: 'turbo', HOOK: 'not a url' },
      'plugin x',
    );
    expect(problems.map((p) => p.variable)).toEqual(['KEY', 'COUNT', 'RATIO', 'FLAG', 'MODE', 'HOOK']);
    expect(problems[0]!.message).toBe(
      'the value given is invalid: expected a string matching /^k_[a-z]{8}$/ (the key)',
    );
    expect(problems[1]!.message).toBe('"5" is invalid: expected an integer from 15 to 1440');
    expect(problems[4]!.message).toBe('"turbo" is invalid: expected one of fast, safe');
    expect(JSON.stringify(problems)).not.toContain(secret);
  });

  it('reports a missing required variable', () => {
    expect(readConfig(spec, {}, 'plugin x').problems).toEqual([
      {
        variable: 'KEY',
        owner: 'plugin x',
        message: 'is required: expected a string matching /^k_[a-z]{8}$/ (the key)',
      },
    ]);
  });

  it('masks secrets in the entries shown to admins', () => {
    const { values } = readConfig(spec, { KEY: 'k_abcdefgh' }, 'test');
    expect(values.entries().find((e) => e.key === 'KEY')).toMatchObject({
      value: '********',
      isSet: true,
      secret: true,
    });
    expect(values.entries().find((e) => e.key === 'HOOK')).toMatchObject({ value: null, isSet: false });
  });

  it.each<[string, Record<string, string>, { documentsMode: string; trustedDocuments: string[] } | RegExp]>([
    ['outside production, any document', {}, { documentsMode: 'any', trustedDocuments: [CLIENT_MANIFEST] }],
    [
      'in production, trusted documents',
      { NODE_ENV: 'production' },
      { documentsMode: 'trusted', trustedDocuments: [CLIENT_MANIFEST] },
    ],
    [
      'a list of manifests',
      { PLUGBOARD_DOCUMENTS: 'trusted-strict', PLUGBOARD_TRUSTED_DOCUMENTS: ' a.json, https://cdn.test/b.json ,' },
      { documentsMode: 'trusted-strict', trustedDocuments: ['a.json', 'https://cdn.test/b.json'] },
    ],
    [
      'trusted with no manifest',
      { PLUGBOARD_DOCUMENTS: 'trusted', PLUGBOARD_TRUSTED_DOCUMENTS: ' , ' },
      /PLUGBOARD_TRUSTED_DOCUMENTS \(gateway\): PLUGBOARD_DOCUMENTS=trusted needs the manifests/,
    ],
    ['an unknown mode', { PLUGBOARD_DOCUMENTS: 'some' }, /PLUGBOARD_DOCUMENTS \(gateway\): "some" is invalid/],
  ])('PLUGBOARD_DOCUMENTS: %s', (_case, env, expected) => {
    if (expected instanceof RegExp) expect(() => loadGatewaySettings(env)).toThrow(expected);
    else expect(loadGatewaySettings(env)).toMatchObject(expected);
  });

  it('validates the gateway settings the same way', () => {
    expect(() => loadGatewaySettings({ PORT: '70000' })).toThrow(/PORT \(gateway\): "70000" is invalid/);
    expect(() =>
      loadGatewaySettings({ PLUGBOARD_JWT_SECRET: 'x'.repeat(40), PLUGBOARD_JWKS_URL: 'https://idp.test/jwks' }),
    ).toThrow(/either PLUGBOARD_JWT_SECRET/);
    const settings = loadGatewaySettings({ NODE_ENV: 'production' });
    expect(settings).toMatchObject({
      port: 4000,
      host: '127.0.0.1',
      production: true,
      introspection: false,
      bodyLimit: 1048576,
    });
    expect(loadGatewaySettings({}).introspection).toBe(true);
    expect(() =>
      loadGatewaySettings({ PLUGBOARD_HEADERS_TIMEOUT_MS: '20000', PLUGBOARD_REQUEST_TIMEOUT_MS: '10000' }),
    ).toThrow(/PLUGBOARD_HEADERS_TIMEOUT_MS \(gateway\): must not exceed PLUGBOARD_REQUEST_TIMEOUT_MS/);
    expect(loadGatewaySettings({ PLUGBOARD_REQUEST_TIMEOUT_MS: '5000' }).server).toEqual({
      headersTimeoutMs: 5000,
      requestTimeoutMs: 5000,
      keepAliveTimeoutMs: 5000,
      maxConnections: 20000,
    });
    expect(() => loadGatewaySettings({ PLUGBOARD_METRICS_ACCESS: 'everyone' })).toThrow(
      /PLUGBOARD_METRICS_ACCESS \(gateway\): "everyone" is invalid: expected one of public, admin/,
    );
    expect(loadGatewaySettings({ PLUGBOARD_METRICS_PORT: '9464' })).toMatchObject({
      metricsPort: 9464,
      metricsHost: '127.0.0.1',
      metricsAccess: 'admin',
    });
    expect(loadGatewaySettings({})).toMatchObject({ metricsPort: null, metricsAccess: 'public' });
  });
});

describe('plugin selection', () => {
  const plugins = [...registry, echo];

  it('enables by default every plugin whose required config is present, and says why not', () => {
    const without = selectPlugins(plugins, {});
    expect(without.map((p) => [p.manifest.name, p.enabled, p.reason])).toEqual([
      ['core', true, null],
      ['jobs', true, null],
      ['realtime', true, null],
      ['notifications', true, null],
      ['stripe', false, 'missing required configuration: STRIPE_API_KEY, STRIPE_WEBHOOK_SECRET'],
      [
        'github',
        false,
        'missing required configuration: GITHUB_WEBHOOK_SECRET, either GITHUB_TOKEN or GITHUB_APP_ID + GITHUB_APP_PRIVATE_KEY + GITHUB_APP_INSTALLATION_ID',
      ],
      [
        'shopify',
        false,
        'missing required configuration: SHOPIFY_API_KEY, SHOPIFY_API_SECRET, either SHOPIFY_SHOP + SHOPIFY_ACCESS_TOKEN or SHOPIFY_APP_URL + SHOPIFY_SCOPES',
      ],
      ['idme', false, 'missing required configuration: IDME_CLIENT_ID, IDME_CLIENT_SECRET, IDME_REDIRECT_URI'],
      ['files', true, null],
      ['echo', false, 'missing required configuration: ECHO_API_KEY'],
    ]);
    const withKey = selectPlugins(plugins, { ECHO_API_KEY });
    expect(withKey.map((p) => p.enabled)).toEqual([true, true, true, true, false, false, false, false, true, true]);
  });

  it('follows PLUGBOARD_PLUGINS (core is always on)', () => {
    const selected = selectPlugins(plugins, { PLUGBOARD_PLUGINS: 'core', ECHO_API_KEY });
    expect(selected.map((p) => [p.manifest.name, p.enabled, p.reason])).toEqual([
      ['core', true, null],
      ['jobs', false, 'not listed in PLUGBOARD_PLUGINS'],
      ['realtime', false, 'not listed in PLUGBOARD_PLUGINS'],
      ['notifications', false, 'not listed in PLUGBOARD_PLUGINS'],
      ['stripe', false, 'not listed in PLUGBOARD_PLUGINS'],
      ['github', false, 'not listed in PLUGBOARD_PLUGINS'],
      ['shopify', false, 'not listed in PLUGBOARD_PLUGINS'],
      ['idme', false, 'not listed in PLUGBOARD_PLUGINS'],
      ['files', false, 'not listed in PLUGBOARD_PLUGINS'],
      ['echo', false, 'not listed in PLUGBOARD_PLUGINS'],
    ]);
  });

  it('stops on an unknown plugin name or missing config of a plugin asked for', () => {
    expect(() => selectPlugins(plugins, { PLUGBOARD_PLUGINS: 'core,woocommerce' })).toThrow(
      /unknown plugin "woocommerce": expected a comma-separated list of core, jobs, realtime, notifications, stripe, github, shopify, idme, files, echo/,
    );
    const error = (() => {
      try {
        selectPlugins(plugins, { PLUGBOARD_PLUGINS: 'echo' });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      { variable: 'ECHO_API_KEY', owner: 'plugin echo', message: expect.stringMatching(/^is required/) },
    ]);
  });

  it('validates each manifest against the JSON schema', () => {
    const broken: Plugin = definePlugin({
      manifest: {
        name: 'Bad Name',
        version: '1',
        description: 'x',
        capabilities: { teleport: true },
        configuration: { required: ['lower'] },
      },
      config: () => ({}),
    });
    expect(() => selectPlugins([broken], {})).toThrow(ConfigError);
    const messages = (() => {
      try {
        selectPlugins([broken], {});
        return [];
      } catch (e) {
        return (e as ConfigError).problems.map((p) => p.message);
      }
    })();
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\/name must match pattern/),
        expect.stringMatching(/^\/version must match pattern/),
        expect.stringMatching(/^\/capabilities must NOT have additional properties/),
        expect.stringMatching(/^\/configuration\/required\/0 must match pattern/),
      ]),
    );
  });

  it('refuses two plugins with the same name', () => {
    expect(() => selectPlugins([echo, echo], { ECHO_API_KEY })).toThrow(/"echo" is registered twice/);
  });

  it('accepts every registered plugin manifest', () => {
    expect(() => selectPlugins(registry, {})).not.toThrow();
  });
});

describe('requiredOneOf: one whole group of alternatives', () => {
  const credentials: ConfigurationSpec = {
    required: ['SECRET'],
    requiredOneOf: [['TOKEN'], ['APP_ID', 'APP_KEY']],
  };
  it.each<[string, Record<string, string>, string[], string[]]>([
    ['the token', { SECRET: 's', TOKEN: 't' }, [], []],
    ['the whole app', { SECRET: 's', APP_ID: '1', APP_KEY: 'k' }, [], []],
    ['both', { SECRET: 's', TOKEN: 't', APP_ID: '1', APP_KEY: 'k' }, [], []],
    [
      'neither',
      { SECRET: 's' },
      ['either TOKEN or APP_ID + APP_KEY'],
      ['TOKEN: is required, or instead: APP_ID + APP_KEY'],
    ],
    [
      'half an app',
      { SECRET: 's', APP_ID: '1' },
      ['either TOKEN or APP_ID + APP_KEY'],
      ['APP_KEY: is required with APP_ID'],
    ],
    [
      'blank values',
      { SECRET: 's', TOKEN: ' ' },
      ['either TOKEN or APP_ID + APP_KEY'],
      ['TOKEN: is required, or instead: APP_ID + APP_KEY'],
    ],
  ])('%s', (_label, env, missing, problems) => {
    expect(missingRequired(credentials, env)).toEqual(missing);
    expect(readConfig(credentials, env, 'plugin x').problems.map((p) => `${p.variable}: ${p.message}`)).toEqual(
      problems,
    );
  });
});
