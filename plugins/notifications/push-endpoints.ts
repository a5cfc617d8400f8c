/**
 * Which push services a subscription endpoint may point at. A browser hands its endpoint to the
 * client, so the gateway would otherwise POST to any URL a user registers (blind SSRF, port
 * probing). An endpoint must be https on a host of NOTIFICATIONS_PUSH_ALLOWED_HOSTS; a name
 * there must resolve to public addresses only; an IP address there admits exactly that address
 * (a push service on your own network). The check runs when a subscription is registered and
 * again on every connection (PushAgent), which connects to the address it checked, so a name
 * re-pointed at an internal address later (DNS rebinding) is refused too.
 */
import { lookup } from 'node:dns/promises';
import { Agent, type RequestOptions } from 'node:https';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { isPublicAddress } from '../../gateway/sdk.ts';

/** `host` (port 443), `host:port`, `*.domain` (any subdomain, not the apex), or an IP address. */
export interface PushHostRule {
  /** Lower-case name (without `*.`), or a canonical IP address (IPv6 without brackets). */
  host: string;
  wildcard: boolean;
  port: number;
  /** The entry is an IP address: it admits exactly that address, whatever its range. */
  address: boolean;
}

/** An endpoint the allow-list or the address check refuses; the message says why. */
export class PushEndpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PushEndpointError';
  }
}

/** A DNS name whose last label is not all digits (URL parsers read those as IPv4 addresses). */
const NAME = /^([a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?\.)*(?!\d+$)[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$/;

/** An IP address in its canonical form (brackets dropped, IPv6 compressed), else the lower-cased name. */
export function canonicalHost(host: string): string {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIP(bare) === 6) return new URL(`https://[${bare}]`).hostname.slice(1, -1);
  return bare.toLowerCase();
}

/** Reads NOTIFICATIONS_PUSH_ALLOWED_HOSTS; `invalid` lists the entries that are none of the forms. */
export function parsePushHosts(value: string): { rules: PushHostRule[]; invalid: string[] } {
  const rules: PushHostRule[] = [];
  const invalid: string[] = [];
  for (const entry of value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)) {
    const match = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(entry);
    const port = match?.[2] === undefined ? 443 : Number(match[2]);
    if (!match || port < 1 || port > 65535) {
      invalid.push(entry);
      continue;
    }
    const raw = match[1]!;
    const bracketed = raw.startsWith('[');
    const host = canonicalHost(raw);
    const family = isIP(host);
    if (bracketed ? family === 6 : family === 4) rules.push({ host, wildcard: false, port, address: true });
    else if (
      !bracketed &&
      family === 0 &&
      raw.startsWith('*.') &&
      NAME.test(host.slice(2)) &&
      host.slice(2).includes('.')
    )
      rules.push({ host: host.slice(2), wildcard: true, port, address: false });
    else if (!bracketed && family === 0 && NAME.test(host)) rules.push({ host, wildcard: false, port, address: false });
    else invalid.push(entry);
  }
  return { rules, invalid };
}

/** The rule admitting `host:port`, if any. An IP address matches only an IP entry. */
export function ruleFor(host: string, port: number, rules: readonly PushHostRule[]): PushHostRule | undefined {
  const canonical = canonicalHost(host);
  const address = isIP(canonical) !== 0;
  return rules.find(
    (rule) =>
      rule.port === port &&
      rule.address === address &&
      (rule.wildcard ? canonical.endsWith(`.${rule.host}`) : canonical === rule.host),
  );
}

/**
 * Checks `host:port` against the rules and, for a name, resolves it and checks every address.
 * Returns the address to connect to.
 */
export async function checkPushHost(host: string, port: number, rules: readonly PushHostRule[]): Promise<string> {
  const canonical = canonicalHost(host);
  const shown = isIP(canonical) === 6 ? `[${canonical}]:${port}` : `${canonical}:${port}`;
  const rule = ruleFor(canonical, port, rules);
  if (!rule) throw new PushEndpointError(`${shown} is not an allowed push service (NOTIFICATIONS_PUSH_ALLOWED_HOSTS)`);
  if (rule.address) return canonical;
  let addresses: { address: string }[];
  try {
    addresses = await lookup(canonical, { all: true, verbatim: true });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') throw new PushEndpointError(`${canonical} does not resolve`);
    throw error;
  }
  const refused = addresses.find((a) => !isPublicAddress(a.address));
  if (refused)
    throw new PushEndpointError(`${canonical} resolves to ${refused.address}, which is not a public address`);
  if (addresses.length === 0) throw new PushEndpointError(`${canonical} does not resolve`);
  return addresses[0]!.address;
}

/** Parses and checks an endpoint; returns it in canonical form (what is stored and sent to). */
export async function checkPushEndpoint(endpoint: string, rules: readonly PushHostRule[]): Promise<string> {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new PushEndpointError('endpoint is not a URL');
  }
  if (url.protocol !== 'https:') throw new PushEndpointError('A push endpoint is an https URL');
  if (url.username || url.password) throw new PushEndpointError('A push endpoint carries no user name or password');
  await checkPushHost(url.hostname, Number(url.port || 443), rules);
  return url.href;
}

/**
 * The https.Agent web-push sends through: every connection is checked as above (whatever URL
 * parser produced its host) and made to the address that passed.
 */
export class PushAgent extends Agent {
  private readonly rules: readonly PushHostRule[];

  constructor(rules: readonly PushHostRule[]) {
    super({ keepAlive: true });
    this.rules = rules;
  }

  override createConnection(
    options: RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const host = options.host ?? options.hostname ?? '';
    const port = Number(options.port ?? 443);
    checkPushHost(host, port, this.rules).then(
      (address) => {
        // TLS still verifies the certificate for the name (servername), not for the address.
        const servername = isIP(canonicalHost(host)) === 0 ? canonicalHost(host) : undefined;
        callback?.(
          null,
          super.createConnection({ ...options, host: address, ...(servername ? { servername } : {}) }, undefined)!,
        );
      },
      (error: unknown) =>
        callback?.(error instanceof Error ? error : new Error(String(error)), undefined as unknown as Duplex),
    );
    return undefined;
  }
}
