import { describe, expect, it } from 'vitest';
import { isPublicAddress } from '../gateway/public-address.ts';

describe('isPublicAddress (the SSRF rule of http-request jobs and push subscriptions)', () => {
  it.each([
    ['127.0.0.1', false],
    ['127.1.2.3', false],
    ['10.0.0.1', false],
    ['172.16.5.4', false],
    ['192.168.1.1', false],
    ['169.254.169.254', false],
    ['100.64.0.1', false],
    ['0.0.0.0', false],
    ['224.0.0.1', false],
    ['255.255.255.255', false],
    ['192.88.99.1', false],
    ['198.18.0.1', false],
    ['::1', false],
    ['::', false],
    ['::ffff:127.0.0.1', false],
    ['::ffff:8.8.8.8', false],
    ['fe80::1', false],
    ['fd00::1', false],
    ['fec0::1', false],
    ['ff02::1', false],
    ['64:ff9b::a00:1', false],
    ['2002:7f00:1::', false],
    ['2001:db8::1', false],
    ['2001:0:4136:e378::1', false],
    ['142.250.185.74', true],
    ['8.8.8.8', true],
    ['172.32.0.1', true],
    ['2a00:1450:4001:82b::200a', true],
    ['not-an-address', false],
  ])('%s is a public address: %s', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });
});
