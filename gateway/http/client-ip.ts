/**
 * The client's IP address: the TCP peer, unless the peer is one of PLUGBOARD_TRUSTED_PROXIES,
 * whose X-Forwarded-For is then believed. Anyone can send X-Forwarded-For, so from any other
 * peer it is ignored; behind a proxy that is not listed, every client has the proxy's address.
 */
import { BlockList, isIP } from 'node:net';

/** The proxies whose X-Forwarded-For is believed. */
export interface TrustedProxies {
  readonly list: BlockList;
  readonly empty: boolean;
}

const CIDR = /^([^/]+)\/(\d{1,3})$/;

/** Parses `10.0.0.0/8, 192.0.2.1, fd00::/8`; throws naming the first entry that is neither an address nor a CIDR range. */
export function parseTrustedProxies(value: string): TrustedProxies {
  const list = new BlockList();
  let empty = true;
  for (const entry of value
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const range = CIDR.exec(entry);
    const address = range ? range[1]! : entry;
    const family = isIP(address);
    const prefix = range ? Number(range[2]) : undefined;
    if (family === 0 || (prefix !== undefined && prefix > (family === 4 ? 32 : 128))) {
      throw new Error(`"${entry}" is not an IP address or a CIDR range (e.g. 10.0.0.0/8, ::1)`);
    }
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, prefix, type);
    empty = false;
  }
  return { list, empty };
}

/** An address as one key: IPv4-mapped IPv6 (`::ffff:1.2.3.4`, what a dual-stack server sees) is IPv4. */
function normalize(address: string): string | null {
  const family = isIP(address);
  if (family === 0) return null;
  if (family === 6 && address.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4)
    return address.slice(7);
  return address;
}

const trusts = (proxies: TrustedProxies, address: string) =>
  proxies.list.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6');

/** Whether a request's peer is one of the trusted proxies, whose X-Forwarded-* headers are believed. */
export function isTrustedProxy(peer: string | undefined, proxies: TrustedProxies): boolean {
  const address = normalize(peer ?? '');
  return !proxies.empty && address !== null && trusts(proxies, address);
}

/**
 * The client address of a request from `peer` carrying `forwardedFor` (X-Forwarded-For, several
 * headers joined by commas): walking the hops from the right, the first that is not a trusted
 * proxy. A malformed hop stops the walk at the trusted hop that reported it.
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | readonly string[] | undefined,
  proxies: TrustedProxies,
): string {
  let client = normalize(peer ?? '') ?? 'unknown';
  if (proxies.empty || forwardedFor === undefined || !trusts(proxies, client)) return client;
  const hops = (typeof forwardedFor === 'string' ? forwardedFor : forwardedFor.join(',')).split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalize(hops[i]!.trim());
    if (hop === null) return client;
    client = hop;
    if (!trusts(proxies, hop)) return hop;
  }
  return client;
}
