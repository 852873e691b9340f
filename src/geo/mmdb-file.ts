/**
 * A MaxMind DB (format 2) reader that leaves the database on disk. Instead of reading the whole
 * file into the heap (maxmind.open), it keeps a file descriptor and reads what a lookup touches
 * with positional reads through a small bounded block cache: the OS page cache holds the file,
 * shared and reclaimable, and the process holds only the cache. Lookups stay synchronous.
 *
 * Written from the MaxMind DB File Format Specification (https://maxmind.github.io/MaxMind-DB/):
 * a binary search tree over the address bits, 16 zero bytes, a data section of typed values,
 * then the metadata (a map of the same types) after the marker "\xAB\xCD\xEFMaxMind.com".
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { isIP } from 'node:net';

/** A decoded data section value, as maxmind's reader returns it (uint64 and uint128 as bigint). */
export type MmdbValue = string | number | boolean | bigint | Buffer | MmdbValue[] | { [key: string]: MmdbValue };

export interface MmdbMetadata {
  nodeCount: number;
  recordSize: 24 | 28 | 32;
  ipVersion: 4 | 6;
  databaseType: string;
  binaryFormatMajorVersion: number;
  binaryFormatMinorVersion: number;
  buildEpoch: Date;
  languages: string[];
  description: Record<string, string>;
  /** Bytes of the search tree: the data section starts 16 bytes after it. */
  searchTreeSize: number;
}

export interface MmdbFileOptions {
  /** Bytes per cached block; every read from the file is one aligned block. Default 4 KiB (a page). */
  blockSize?: number;
  /** Upper bound of the block cache in bytes (at least one block). Default 4 MiB. */
  cacheBytes?: number;
}

/** A file that is not a usable MaxMind DB, found when opening it or, for a corrupt one, later. */
export class MmdbFormatError extends Error {}

const METADATA_MARKER = Buffer.from('\xAB\xCD\xEFMaxMind.com', 'latin1');
/** The spec caps the metadata section at 128 KiB, so the marker is that close to the end. */
const METADATA_MAX_BYTES = 128 * 1024;
const DATA_SECTION_SEPARATOR = 16;
/** Nesting (maps, arrays, pointers) deeper than this is a corrupt file, not a stack overflow. */
const MAX_DEPTH = 512;
/** Bounds of the cache of strings behind pointers (map keys, shared city names). */
const POINTED_STRINGS_MAX = 4096;
const POINTED_STRING_MAX_LENGTH = 64;
/** Spans that cross blocks are assembled in a reused buffer up to this size; larger ones get their own. */
const SCRATCH_MAX_BYTES = 64 * 1024;

const enum Type {
  Pointer = 1,
  Utf8String = 2,
  Double = 3,
  Bytes = 4,
  Uint16 = 5,
  Uint32 = 6,
  Map = 7,
  Int32 = 8,
  Uint64 = 9,
  Uint128 = 10,
  Array = 11,
  DataCacheContainer = 12,
  EndMarker = 13,
  Boolean = 14,
  Float = 15,
}

export class MmdbFile {
  readonly metadata: MmdbMetadata;
  private fd: number | undefined;
  private readonly fileSize: number;
  private readonly nodeByteSize: number;
  /** File offset of the data section; a tree record r > nodeCount points at dataStart + r - nodeCount - 16. */
  private readonly dataStart: number;
  /** File offset of the metadata map: the data section ends at the marker before it. */
  private readonly metadataStart: number;
  /** Where IPv4 lookups start: the node after 96 zero bits in an IPv6 tree, the root in an IPv4 one. */
  private readonly ipv4Start: number;

  // The block cache: one arena of `slots` blocks, replaced with CLOCK (a second chance for
  // blocks used since the hand last passed), which costs a bit set on a hit instead of LRU's
  // reordering. The top of the search tree, touched by every lookup, stays resident. Blocks are
  // found through a table indexed by block number (4 bytes per block of the file: 70 KB for
  // 70 MB in 4 KiB blocks), cheaper than a Map on the ~30 reads of a lookup.
  private readonly blockSize: number;
  private readonly slots: number;
  private readonly arena: Buffer;
  /** Slot of each block of the file, -1 when not cached. */
  private readonly slotOfBlock: Int32Array;
  private readonly blockOfSlot: Int32Array;
  private readonly referenced: Uint8Array;
  private hand = 0;
  private reads = 0;
  /** The last block asked for: consecutive reads (a record's fields) skip the table and the bit. */
  private lastBlock = -1;
  private lastSlot = 0;
  private scratch = Buffer.allocUnsafe(256);
  /** Where span() put the bytes in the buffer it returned. */
  private spanAt = 0;
  /** The file offset just after the value decode() last returned. */
  private cursor = 0;
  private readonly address = new Uint8Array(16);
  /**
   * Decoded strings by file offset, for those reached through a pointer: writers store each
   * distinct map key and common value once and point at it, so every record repeats the same
   * few pointers. Cleared when full, which keeps it bounded (~1 MB at most) without bookkeeping.
   */
  private readonly pointedStrings = new Map<number, string>();

  /**
   * Opens `path` and reads its metadata; throws MmdbFormatError now, rather than on some later
   * lookup, when the file is not a MaxMind DB, is truncated, or has values this reader refuses.
   */
  constructor(
    readonly path: string,
    options: MmdbFileOptions = {},
  ) {
    const blockSize = options.blockSize ?? 4096;
    const cacheBytes = options.cacheBytes ?? 4 * 1024 * 1024;
    if (!Number.isInteger(blockSize) || blockSize < 8)
      throw new RangeError(`blockSize must be an integer >= 8, got ${blockSize}`);
    if (!(cacheBytes >= 0)) throw new RangeError(`cacheBytes must be >= 0, got ${cacheBytes}`);
    this.blockSize = blockSize;
    const fd = openSync(path, 'r');
    this.fd = fd;
    try {
      this.fileSize = fstatSync(fd).size;
      const fileBlocks = Math.ceil(this.fileSize / blockSize);
      this.slotOfBlock = new Int32Array(fileBlocks).fill(-1);
      // No more slots than the file has blocks. The arena's pages count in RSS only once touched.
      this.slots = Math.max(1, Math.min(fileBlocks, Math.floor(cacheBytes / blockSize)));
      this.arena = Buffer.alloc(this.slots * blockSize);
      this.blockOfSlot = new Int32Array(this.slots).fill(-1);
      this.referenced = new Uint8Array(this.slots);
      this.metadataStart = this.findMetadata();
      this.metadata = this.readMetadata();
      const { nodeCount, recordSize, searchTreeSize } = this.metadata;
      this.nodeByteSize = recordSize / 4;
      this.dataStart = searchTreeSize + DATA_SECTION_SEPARATOR;
      if (this.dataStart > this.metadataStart - METADATA_MARKER.length) {
        throw new MmdbFormatError(
          `the search tree (${nodeCount} nodes, ${searchTreeSize} bytes) does not fit before the metadata at ${this.metadataStart}: truncated file?`,
        );
      }
      const separator = this.span(searchTreeSize, DATA_SECTION_SEPARATOR);
      for (let i = 0; i < DATA_SECTION_SEPARATOR; i++) {
        if (separator[this.spanAt + i] !== 0)
          throw new MmdbFormatError(
            `no 16 zero bytes after the search tree at ${searchTreeSize}: corrupt or truncated file?`,
          );
      }
      let node = 0;
      if (this.metadata.ipVersion === 6) for (let i = 0; i < 96 && node < nodeCount; i++) node = this.child(node, 0);
      this.ipv4Start = node;
    } catch (error) {
      this.fd = undefined;
      closeSync(fd);
      if (error instanceof MmdbFormatError || error instanceof RangeError) {
        const reason = error.message.startsWith(`${path}: `) ? error.message.slice(path.length + 2) : error.message;
        throw new MmdbFormatError(`${path} is not a usable MaxMind DB file: ${reason}`, { cause: error });
      }
      throw error;
    }
  }

  /**
   * The record for `ip` (IPv4, IPv6 or IPv4-mapped IPv6 text), or null when the database has
   * none. An IPv6 address in an IPv4-only database is a TypeError, as in libmaxminddb.
   */
  get(ip: string): MmdbValue | null {
    if (this.fd === undefined) throw new Error(`${this.path}: get() after close()`);
    const bytes = parseAddress(ip, this.address);
    if (bytes === 16 && this.metadata.ipVersion === 4)
      throw new TypeError(`${ip} is an IPv6 address and ${this.path} is an IPv4-only database`);
    const { nodeCount } = this.metadata;
    const address = this.address;
    const bits = bytes * 8;
    let node = bytes === 4 ? this.ipv4Start : 0;
    for (let i = 0; i < bits && node < nodeCount; i++) {
      node = this.child(node, (address[i >> 3]! >> (7 - (i & 7))) & 1);
    }
    // node === nodeCount: no data for this network. node < nodeCount: every bit used and still in
    // the tree, which a well-formed file cannot do; maxmind answers null for it as well.
    if (node <= nodeCount) return null;
    const position = this.dataStart + (node - nodeCount - DATA_SECTION_SEPARATOR);
    if (position < this.dataStart || position >= this.metadataStart - METADATA_MARKER.length) {
      throw new MmdbFormatError(`${this.path}: tree record ${node} points past the data section: corrupt file`);
    }
    return this.decode(position, this.dataStart, 0);
  }

  /** Blocks read from the file so far (cache misses), for benchmarks and tests. */
  get fileReads(): number {
    return this.reads;
  }

  /** Closes the file descriptor and drops the cache; later lookups throw. */
  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    this.slotOfBlock.fill(-1);
    this.blockOfSlot.fill(-1);
    this.pointedStrings.clear();
    this.lastBlock = -1;
    closeSync(fd);
  }

  /** One of a node's two records: the next node, nodeCount (no data) or a data pointer. */
  private child(node: number, bit: number): number {
    const b = this.span(node * this.nodeByteSize, this.nodeByteSize);
    const p = this.spanAt;
    switch (this.metadata.recordSize) {
      case 24:
        return bit === 0
          ? (b[p]! << 16) | (b[p + 1]! << 8) | b[p + 2]!
          : (b[p + 3]! << 16) | (b[p + 4]! << 8) | b[p + 5]!;
      case 28:
        // The middle byte holds the top four bits of both records: left's high nibble, right's low.
        return bit === 0
          ? ((b[p + 3]! & 0xf0) << 20) | (b[p]! << 16) | (b[p + 1]! << 8) | b[p + 2]!
          : ((b[p + 3]! & 0x0f) << 24) | (b[p + 4]! << 16) | (b[p + 5]! << 8) | b[p + 6]!;
      case 32:
        return b.readUInt32BE(p + bit * 4);
    }
  }

  /**
   * The value at file offset `position`, leaving the offset after it in this.cursor. Pointers are
   * offsets from `base` (the data section, or the metadata start while reading the metadata).
   */
  private decode(position: number, base: number, depth: number): MmdbValue {
    if (depth > MAX_DEPTH)
      throw new MmdbFormatError(`${this.path}: values nested deeper than ${MAX_DEPTH} at ${position}: corrupt file`);
    const control = this.byteAt(position++);
    let type = control >> 5;
    if (type === Type.Pointer) {
      // 001SSVVV: SS+1 more bytes; the three V bits are the value's top bits except when SS is 3.
      const ss = (control >> 3) & 3;
      let target = ss === 3 ? 0 : control & 7;
      for (let i = 0; i <= ss; i++) target = target * 256 + this.byteAt(position + i);
      if (ss === 1) target += 2048;
      else if (ss === 2) target += 526_336;
      const after = position + ss + 1;
      const at = base + target;
      let value: MmdbValue | undefined = this.pointedStrings.get(at);
      if (value === undefined) {
        value = this.decode(at, base, depth + 1);
        if (typeof value === 'string' && value.length <= POINTED_STRING_MAX_LENGTH) {
          if (this.pointedStrings.size >= POINTED_STRINGS_MAX) this.pointedStrings.clear();
          this.pointedStrings.set(at, value);
        }
      }
      this.cursor = after;
      return value;
    }
    if (type === 0) {
      type = 7 + this.byteAt(position++);
      if (type < Type.Int32)
        throw new MmdbFormatError(`${this.path}: extended type ${type} at ${position - 2}: corrupt file`);
    }
    let size = control & 0x1f;
    if (size >= 29) {
      const extra = size - 28;
      const value = this.uintAt(position, extra);
      position += extra;
      size = size === 29 ? 29 + value : size === 30 ? 285 + value : 65_821 + value;
    }
    this.cursor = position + size;
    switch (type) {
      case Type.Utf8String: {
        if (size === 0) return '';
        const b = this.span(position, size);
        return b.toString('utf8', this.spanAt, this.spanAt + size);
      }
      case Type.Double:
        this.expectSize(type, size, 8, position);
        return this.span(position, 8).readDoubleBE(this.spanAt);
      case Type.Float:
        this.expectSize(type, size, 4, position);
        return this.span(position, 4).readFloatBE(this.spanAt);
      case Type.Bytes: {
        if (size === 0) return Buffer.alloc(0);
        const b = this.span(position, size);
        return Buffer.from(b.subarray(this.spanAt, this.spanAt + size)); // a copy: the cache moves on
      }
      case Type.Uint16:
      case Type.Uint32:
        this.expectAtMost(type, size, type === Type.Uint16 ? 2 : 4, position);
        return this.uintAt(position, size);
      case Type.Int32:
        this.expectAtMost(type, size, 4, position);
        // Fewer than four bytes are the low bytes of a non-negative value.
        return size === 4 ? this.span(position, 4).readInt32BE(this.spanAt) : this.uintAt(position, size);
      case Type.Uint64:
      case Type.Uint128: {
        this.expectAtMost(type, size, type === Type.Uint64 ? 8 : 16, position);
        let value = 0n;
        for (let i = 0; i < size; i++) value = (value << 8n) | BigInt(this.byteAt(position + i));
        return value;
      }
      case Type.Boolean:
        // The size is the value; there is no payload.
        if (size > 1) throw new MmdbFormatError(`${this.path}: boolean of size ${size} at ${position}: corrupt file`);
        this.cursor = position;
        return size === 1;
      case Type.Map: {
        // The size counts pairs; keys are strings, possibly behind pointers.
        const map: { [key: string]: MmdbValue } = {};
        let at = position;
        for (let i = 0; i < size; i++) {
          const key = this.decode(at, base, depth + 1);
          if (typeof key !== 'string')
            throw new MmdbFormatError(`${this.path}: map key of type ${typeof key} at ${at}: corrupt file`);
          map[key] = this.decode(this.cursor, base, depth + 1);
          at = this.cursor;
        }
        this.cursor = at;
        return map;
      }
      case Type.Array: {
        const array: MmdbValue[] = new Array(size);
        let at = position;
        for (let i = 0; i < size; i++) {
          array[i] = this.decode(at, base, depth + 1);
          at = this.cursor;
        }
        this.cursor = at;
        return array;
      }
      default:
        // Data cache containers and end markers are never record values; anything else is garbage.
        throw new MmdbFormatError(`${this.path}: unexpected type ${type} at ${position}: corrupt file`);
    }
  }

  private expectSize(type: Type, size: number, wanted: number, position: number): void {
    if (size !== wanted)
      throw new MmdbFormatError(
        `${this.path}: type ${type} of size ${size} (not ${wanted}) at ${position}: corrupt file`,
      );
  }

  private expectAtMost(type: Type, size: number, most: number, position: number): void {
    if (size > most)
      throw new MmdbFormatError(
        `${this.path}: type ${type} of size ${size} (over ${most}) at ${position}: corrupt file`,
      );
  }

  private byteAt(position: number): number {
    return this.span(position, 1)[this.spanAt]!;
  }

  /** A big-endian unsigned integer of 0 to 4 bytes. */
  private uintAt(position: number, length: number): number {
    if (length === 0) return 0;
    return this.span(position, length).readUIntBE(this.spanAt, length);
  }

  /**
   * The buffer holding file bytes [position, position + length), starting at this.spanAt. Valid
   * until the next read: it is a cache block, or the scratch buffer when the span crosses blocks.
   */
  private span(position: number, length: number): Buffer {
    if (position < 0 || position + length > this.fileSize) {
      throw new MmdbFormatError(
        `${this.path}: read of ${length} bytes at ${position} is past the end (${this.fileSize} bytes): corrupt file`,
      );
    }
    const blockSize = this.blockSize;
    const block = Math.floor(position / blockSize);
    const inBlock = position - block * blockSize;
    if (inBlock + length <= blockSize) {
      this.spanAt = this.slotOf(block) * blockSize + inBlock;
      return this.arena;
    }
    let target = this.scratch;
    if (target.length < length) {
      target = Buffer.allocUnsafe(length);
      if (length <= SCRATCH_MAX_BYTES) this.scratch = target;
    }
    // Copy each block as soon as it is loaded, so even a one-block cache assembles any span.
    for (let copied = 0, b = block, from = inBlock; copied < length; b++, from = 0) {
      const n = Math.min(blockSize - from, length - copied);
      const start = this.slotOf(b) * blockSize + from;
      this.arena.copy(target, copied, start, start + n);
      copied += n;
    }
    this.spanAt = 0;
    return target;
  }

  /** The cache slot holding `block`, reading it from the file on a miss. */
  private slotOf(block: number): number {
    if (block === this.lastBlock) return this.lastSlot;
    let slot = this.slotOfBlock[block]!;
    if (slot < 0) slot = this.load(block);
    else this.referenced[slot] = 1;
    this.lastBlock = block;
    this.lastSlot = slot;
    return slot;
  }

  private load(block: number): number {
    if (this.fd === undefined) throw new Error(`${this.path}: read after close()`);
    // CLOCK: clear the bit of blocks used since the hand last passed, evict the first one without it.
    let slot = this.hand;
    while (this.referenced[slot] === 1) {
      this.referenced[slot] = 0;
      slot = slot + 1 === this.slots ? 0 : slot + 1;
    }
    this.hand = slot + 1 === this.slots ? 0 : slot + 1;
    const evicted = this.blockOfSlot[slot]!;
    if (evicted >= 0) this.slotOfBlock[evicted] = -1;
    this.blockOfSlot[slot] = -1;
    this.lastBlock = -1;
    const position = block * this.blockSize;
    const length = Math.min(this.blockSize, this.fileSize - position);
    const read = readSync(this.fd, this.arena, slot * this.blockSize, length, position);
    this.reads++;
    if (read !== length)
      throw new MmdbFormatError(
        `${this.path}: read ${read} of ${length} bytes at ${position}: was the file truncated while open?`,
      );
    this.blockOfSlot[slot] = block;
    this.slotOfBlock[block] = slot;
    this.referenced[slot] = 1;
    return slot;
  }

  /** The metadata map's file offset, just after the last marker in the file's final 128 KiB. */
  private findMetadata(): number {
    const tailLength = Math.min(this.fileSize, METADATA_MAX_BYTES + METADATA_MARKER.length);
    const tailStart = this.fileSize - tailLength;
    const tail = Buffer.alloc(tailLength);
    if (tailLength > 0) readSync(this.fd!, tail, 0, tailLength, tailStart);
    const at = tail.lastIndexOf(METADATA_MARKER);
    if (at < 0) throw new MmdbFormatError('no metadata marker in its last 128 KiB (not an MMDB file, or truncated)');
    return tailStart + at + METADATA_MARKER.length;
  }

  private readMetadata(): MmdbMetadata {
    const raw = this.decode(this.metadataStart, this.metadataStart, 0);
    if (!isMap(raw)) throw new MmdbFormatError('the metadata is not a map');
    const uint = (key: string): number => {
      const value = raw[key];
      if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
      if (typeof value === 'bigint' && value <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(value);
      throw new MmdbFormatError(`metadata ${key} is ${String(value)}, not an unsigned integer`);
    };
    const major = uint('binary_format_major_version');
    if (major !== 2) throw new MmdbFormatError(`binary format ${major}, this reader knows 2`);
    const nodeCount = uint('node_count');
    if (nodeCount === 0) throw new MmdbFormatError('metadata node_count is 0');
    const recordSize = uint('record_size');
    if (recordSize !== 24 && recordSize !== 28 && recordSize !== 32)
      throw new MmdbFormatError(`record_size ${recordSize}, not 24, 28 or 32`);
    const ipVersion = uint('ip_version');
    if (ipVersion !== 4 && ipVersion !== 6) throw new MmdbFormatError(`ip_version ${ipVersion}, not 4 or 6`);
    const languages = Array.isArray(raw['languages'])
      ? raw['languages'].filter((l): l is string => typeof l === 'string')
      : [];
    const description: Record<string, string> = {};
    const rawDescription = raw['description'];
    if (isMap(rawDescription))
      for (const [k, v] of Object.entries(rawDescription)) if (typeof v === 'string') description[k] = v;
    return {
      nodeCount,
      recordSize,
      ipVersion,
      databaseType: typeof raw['database_type'] === 'string' ? raw['database_type'] : '',
      binaryFormatMajorVersion: major,
      binaryFormatMinorVersion: uint('binary_format_minor_version'),
      buildEpoch: new Date(uint('build_epoch') * 1000),
      languages,
      description,
      searchTreeSize: (nodeCount * recordSize) / 4,
    };
  }
}

function isMap(value: MmdbValue | undefined): value is { [key: string]: MmdbValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

/** Writes the address's bytes to `out` and returns 4 or 16; IPv4-mapped IPv6 stays 16 bytes. */
function parseAddress(ip: string, out: Uint8Array): 4 | 16 {
  const family = isIP(ip);
  if (family === 4) {
    let octet = 0;
    let i = 0;
    for (let c = 0; c < ip.length; c++) {
      const code = ip.charCodeAt(c);
      if (code === 46 /* . */) {
        out[i++] = octet;
        octet = 0;
      } else octet = octet * 10 + code - 48;
    }
    out[i] = octet;
    return 4;
  }
  if (family !== 6) throw new TypeError(`not an IP address: ${JSON.stringify(ip)}`);
  let text = ip;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  // A dotted IPv4 tail ("::ffff:1.2.3.4", "1:2:3:4:5:6:1.2.3.4") is the last two groups.
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.indexOf('.', lastColon) > 0) {
    const [a, b, c, d] = text
      .slice(lastColon + 1)
      .split('.')
      .map(Number) as [number, number, number, number];
    tail.push((a << 8) | b, (c << 8) | d);
    const prefix = text.slice(0, lastColon + 1);
    text = prefix.endsWith('::') ? prefix : prefix.slice(0, -1);
  }
  // Groups before "::" start at word 0, groups after it end at word 7.
  const groups = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const gap = text.indexOf('::');
  const head = groups(gap >= 0 ? text.slice(0, gap) : text);
  const rest = gap >= 0 ? groups(text.slice(gap + 2)) : [];
  (gap >= 0 ? rest : head).push(...tail);
  out.fill(0);
  const write = (word: number, index: number) => {
    out[index * 2] = word >> 8;
    out[index * 2 + 1] = word & 0xff;
  };
  head.forEach((word, i) => write(word, i));
  rest.forEach((word, i) => write(word, 8 - rest.length + i));
  return 16;
}
