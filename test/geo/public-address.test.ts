import { describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { BlockList } from 'node:net';
import fc from 'fast-check';
import { isPublicAddress } from '../../src/geo/public-address.js';

/** The ranges as the IANA special-purpose registries list them, checked by node's own BlockList. */
const reference = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  reference.addSubnet(network, prefix, 'ipv4');
}

describe('public IPv4 addresses', () => {
  it('are those outside every special-purpose range, the ends of each range included', () => {
    const edges = [
      '9.255.255.255',
      '10.0.0.0',
      '10.255.255.255',
      '11.0.0.0',
      '100.63.255.255',
      '100.64.0.0',
      '100.127.255.255',
      '100.128.0.0',
      '172.15.255.255',
      '172.16.0.0',
      '172.31.255.255',
      '172.32.0.0',
      '198.17.255.255',
      '198.18.0.0',
      '198.19.255.255',
      '198.20.0.0',
      '223.255.255.255',
      '224.0.0.0',
      '255.255.255.255',
      '1.1.1.1',
      '8.8.8.8',
    ];
    for (const ip of edges) assert.equal(isPublicAddress(ip), !reference.check(ip, 'ipv4'), ip);
    assert.equal(isPublicAddress('::ffff:10.1.2.3'), false);
    assert.equal(isPublicAddress('::ffff:8.8.8.8'), true);
  });

  it('agree with BlockList on random addresses', () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        assert.equal(isPublicAddress(ip), !reference.check(ip, 'ipv4'), ip);
      }),
      { numRuns: 20_000 },
    );
  });
});
