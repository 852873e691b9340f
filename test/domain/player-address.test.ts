import { describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import fc from 'fast-check';
import { canonicalPlayerAddress } from '../../src/domain/player-address.js';

/** What the WHATWG URL parser writes for an IPv6 host: RFC 5952 compressed, lower case. */
const urlSpelling = (ipv6: string) => new URL(`http://[${ipv6}]/`).hostname.slice(1, -1);

const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
const groups = fc.array(group, { minLength: 8, maxLength: 8 });

/** One of the many spellings of the address: full or with a `::`, leading zeros, upper case. */
function spell(gs: number[], padded: boolean, upper: boolean, cut: [number, number] | undefined): string {
  const hex = gs.map((g) => {
    const h = g.toString(16).padStart(padded ? 4 : 1, '0');
    return upper ? h.toUpperCase() : h;
  });
  if (!cut) return hex.join(':');
  const [start, length] = cut;
  const zeros = gs.slice(start, start + length).every((g) => g === 0);
  return zeros && length >= 1
    ? `${hex.slice(0, start).join(':')}::${hex.slice(start + length).join(':')}`
    : hex.join(':');
}

describe('canonical player addresses', () => {
  it('spells every IPv6 address as the URL standard does, whatever spelling it came in', () => {
    fc.assert(
      fc.property(
        groups,
        fc.boolean(),
        fc.boolean(),
        fc.option(fc.tuple(fc.nat(7), fc.integer({ min: 1, max: 8 })), { nil: undefined }),
        (gs, padded, upper, cut) => {
          const text = spell(gs, padded, upper, cut && cut[0] + cut[1] <= 8 ? cut : undefined);
          assert.equal(isIP(text), 6, text);
          const result = canonicalPlayerAddress(text);
          const expected = urlSpelling(text);
          const isMapped = gs.slice(0, 5).every((g) => g === 0) && gs[5] === 0xffff;
          if (isMapped) return assert.ok(result.ok ? isIP(result.value) === 4 : /address/.test(result.error.message));
          if (expected === '::' || gs[0]! >> 8 === 0xff) return assert.equal(result.ok, false, text);
          assert.deepEqual(result, { ok: true, value: expected }, text);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('accepts exactly what node:net accepts, zone ids aside', () => {
    const alphabet = fc.constantFrom(...'0123456789abcdefABCDEF:.'.split(''));
    fc.assert(
      fc.property(fc.string({ unit: alphabet, maxLength: 24 }), (text) => {
        const result = canonicalPlayerAddress(text);
        const refusedKind = !result.ok && /is (the|a) /.test(result.error.message);
        assert.equal(result.ok || refusedKind, isIP(text) !== 0, text);
      }),
      { numRuns: 5000 },
    );
  });

  it('writes IPv4-mapped addresses as IPv4 and refuses what cannot be a player', () => {
    assert.deepEqual(canonicalPlayerAddress('::ffff:1.2.3.4'), { ok: true, value: '1.2.3.4' });
    assert.deepEqual(canonicalPlayerAddress('::FFFF:102:304'), { ok: true, value: '1.2.3.4' });
    assert.deepEqual(canonicalPlayerAddress('64:ff9b::1.2.3.4'), { ok: true, value: '64:ff9b::102:304' });
    for (const text of [
      'fe80::1%eth0',
      '0.0.0.0',
      '::',
      '0:0:0:0:0:0:0:0',
      '255.255.255.255',
      '224.0.0.1',
      'ff02::1',
      '::ffff:0.0.0.0',
    ]) {
      const result = canonicalPlayerAddress(text);
      assert.equal(result.ok, false, text);
      if (!result.ok) assert.ok(result.error.message.includes(JSON.stringify(text)), result.error.message);
    }
    for (const text of [
      '01.2.3.4',
      '1.2.3',
      '1.2.3.4.5',
      '256.1.1.1',
      ':::',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      'localhost',
      '',
    ]) {
      assert.match(
        (canonicalPlayerAddress(text) as { error: { message: string } }).error.message,
        /Not an IP address/,
        text,
      );
    }
  });
});
