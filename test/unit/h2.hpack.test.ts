import assert from 'node:assert/strict';
import { HpackDecoder, HpackEncoder, HpackError } from '../../src/router/h2/hpack';
import { huffmanDecode, huffmanEncode, huffmanLength } from '../../src/router/h2/huffman';
import { HpackPeer } from '../harness/hpackPeer';
import { RFC_SEQUENCES, bytes } from './hpackRfcExamples';

/** mulberry32: a small seeded PRNG, so a failing fuzz case reproduces. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The decoder's dynamic table, newest first, read through the public API: indexed fields
 * (62, 63, ...) do not change the table, and the first index past its end throws.
 */
function tableOf(decoder: HpackDecoder): [string, string][] {
  const entries: [string, string][] = [];
  for (let index = 62; ; index++) {
    const block: number[] = [];
    if (index < 127) block.push(0x80 | index);
    else block.push(0xff, index - 127);
    let got: string[];
    try {
      got = decoder.decode(Uint8Array.from(block));
    } catch (e) {
      assert.ok(e instanceof HpackError && /past the table/.test(e.message), String(e));
      return entries;
    }
    entries.push([got[0]!, got[1]!]);
  }
}

function sizeOf(table: readonly (readonly [string, string])[]): number {
  return table.reduce((sum, [n, v]) => sum + n.length + v.length + 32, 0);
}

function throwsHpack(decoder: HpackDecoder, block: number[] | Uint8Array, message: RegExp): HpackError {
  let caught: unknown;
  try {
    decoder.decode(Uint8Array.from(block));
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof HpackError, `expected HpackError, got ${String(caught)}`);
  assert.match(caught.message, message);
  return caught;
}

function randomString(random: () => number, maxLength: number, alphabet = 256): string {
  let s = '';
  const length = Math.floor(random() * (maxLength + 1));
  for (let i = 0; i < length; i++) s += String.fromCharCode(Math.floor(random() * alphabet));
  return s;
}

describe('HPACK (router/h2/hpack.ts)', () => {
  describe('RFC 7541 Appendix C examples', () => {
    for (const sequence of RFC_SEQUENCES) {
      it(`${sequence.name}: fields and dynamic table after each block`, () => {
        const decoder = new HpackDecoder({ maxTableSize: sequence.maxTableSize });
        for (const block of sequence.blocks) {
          assert.deepEqual(decoder.decode(bytes(block.hex)), block.fields);
          assert.deepEqual(tableOf(decoder), block.table);
          assert.equal(sizeOf(block.table), block.size);
        }
      });
    }

    it('decodes a block from a Uint8Array view into a larger buffer', () => {
      const hex = RFC_SEQUENCES.find((s) => s.name.startsWith('C.5'))!.blocks[0]!.hex;
      const inner = bytes(hex);
      const outer = new Uint8Array(inner.length + 10).fill(0xee);
      outer.set(inner, 7);
      const view = outer.subarray(7, 7 + inner.length);
      const decoder = new HpackDecoder({ maxTableSize: 256 });
      assert.deepEqual(
        decoder.decode(view),
        RFC_SEQUENCES.find((s) => s.name.startsWith('C.5'))!.blocks[0]!.fields,
      );
    });
  });

  describe('Huffman code', () => {
    it('round-trips random latin1 strings and knows its encoded length', () => {
      const random = prng(7);
      for (let i = 0; i < 2000; i++) {
        const s = randomString(random, 60);
        const coded = huffmanEncode(s);
        assert.equal(coded.length, huffmanLength(s));
        assert.equal(huffmanDecode(coded, 0, coded.length), s);
      }
      assert.equal(huffmanEncode('www.example.com').toString('hex'), 'f1e3c2e5f23a6ba0ab90f4ff'); // C.4.1
    });

    it('decodes strings longer than its reusable scratch buffer, and entries larger than the table', () => {
      const decoder = new HpackDecoder({ maxHeaderListBytes: 1 << 20 });
      const peer = new HpackPeer();
      for (const length of [300, 5000, 120_000]) {
        const fields = ['x-long', 'ab0'.repeat(length / 3), 'x-short', 'c'];
        assert.deepEqual(decoder.decode(peer.encode(fields)), fields);
        assert.deepEqual(tableOf(decoder), peer.table); // the long entry emptied the table
      }
    });

    it('refuses bad padding, padding longer than 7 bits and an explicit EOS', () => {
      const decoder = new HpackDecoder();
      // Literal without indexing, new name "a", Huffman value of one byte.
      const literal = (...value: number[]) => [0x00, 0x01, 0x61, 0x80 | value.length, ...value];
      assert.deepEqual(decoder.decode(Uint8Array.from(literal(0x1f))), ['a', 'a']); // 00011 + 111
      throwsHpack(decoder, literal(0x00), /padding/); // "0" (00000) then 000: not EOS's prefix
      throwsHpack(decoder, literal(0x18), /padding/); // 00011 000
      throwsHpack(decoder, literal(0x1f, 0xff), /padding/); // 11 bits of padding
      throwsHpack(decoder, literal(0xff), /padding/); // 8 bits of padding alone
      throwsHpack(decoder, literal(0xff, 0xff, 0xff, 0xfc), /EOS/); // 30 1-bits: EOS
      throwsHpack(decoder, literal(0x1f, 0xff, 0xff, 0xff, 0xff), /EOS/);
      assert.deepEqual(decoder.decode(Uint8Array.from([...literal(), 0x82])), ['a', '', ':method', 'GET']);
    });
  });

  describe('the encoder', () => {
    const encoder = new HpackEncoder();

    it('sends static matches indexed, static names as indexed-name literals, the rest as new-name literals', () => {
      assert.equal(encoder.encode([':status', '200']).toString('hex'), '88');
      assert.equal(encoder.encode([':authority', '']).toString('hex'), '81');
      assert.equal(
        encoder.encode(['content-type', 'application/grpc']).toString('hex'),
        '0f10' + '10' + Buffer.from('application/grpc').toString('hex'),
      );
      assert.equal(encoder.encode([':status', '418']).toString('hex'), '08' + '03' + '343138');
      assert.equal(
        encoder.encode(['grpc-status', '0']).toString('hex'),
        '00' + '0b' + Buffer.from('grpc-status').toString('hex') + '01' + '30',
      );
      assert.equal(encoder.encode([]).length, 0);
      assert.throws(() => encoder.encode(['odd']), TypeError);
    });

    it('round-trips through the decoder without touching its dynamic table', () => {
      const random = prng(11);
      const decoder = new HpackDecoder();
      const names = [':status', 'content-type', 'grpc-status', 'grpc-message', 'x-b', 'set-cookie', ':path'];
      for (let i = 0; i < 500; i++) {
        const fields: string[] = [];
        const count = Math.floor(random() * 8);
        for (let f = 0; f < count; f++) {
          const name =
            random() < 0.7
              ? names[Math.floor(random() * names.length)]!
              : randomString(random, 20, 128).toLowerCase();
          const value = random() < 0.2 ? '200' : randomString(random, random() < 0.1 ? 300 : 20);
          fields.push(name, value);
        }
        assert.deepEqual(decoder.decode(encoder.encode(fields)), fields);
      }
      assert.deepEqual(tableOf(decoder), []);
    });
  });

  describe('the dynamic table against an indexing peer', () => {
    it('stays in step through insertions, evictions, oversize entries and size updates', () => {
      const random = prng(3);
      for (let run = 0; run < 40; run++) {
        const maxTableSize = [0, 64, 256, 4096][run % 4]!;
        const decoder = new HpackDecoder({ maxTableSize });
        const peer = new HpackPeer(maxTableSize, { huffman: run % 3 !== 0, index: run % 5 !== 4 });
        const pool = Array.from({ length: 12 }, () => [
          randomString(random, 12, 128),
          randomString(random, 40),
        ]);
        for (let b = 0; b < 30; b++) {
          if (random() < 0.1) peer.resize(Math.floor(random() * (maxTableSize + 1)));
          const fields: string[] = [];
          for (let f = Math.floor(random() * 10); f > 0; f--) {
            const [name, value] = pool[Math.floor(random() * pool.length)]!;
            fields.push(name!, random() < 0.8 ? value! : randomString(random, 200));
          }
          assert.deepEqual(decoder.decode(peer.encode(fields)), fields);
          assert.deepEqual(tableOf(decoder), peer.table);
        }
      }
    });

    it('allows several size updates at the start of a block, and not after a field', () => {
      const decoder = new HpackDecoder();
      decoder.decode(bytes('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572')); // C.2.1
      assert.equal(tableOf(decoder).length, 1);
      // 0 (evicts everything), then 4096 (3f e1 1f), then :method GET.
      assert.deepEqual(decoder.decode(Uint8Array.from([0x20, 0x3f, 0xe1, 0x1f, 0x82])), [':method', 'GET']);
      assert.deepEqual(tableOf(decoder), []);
      throwsHpack(decoder, [0x82, 0x20], /size update after a header field/);
      throwsHpack(decoder, [0x3f, 0xe2, 0x1f], /size update to 4097 above 4096/);
      throwsHpack(new HpackDecoder({ maxTableSize: 100 }), [0x3f, 0x46], /size update to 101 above 100/);
    });
  });

  describe('malformed blocks', () => {
    it('refuses index 0, indexes past the table, and truncated or overlong integers and strings', () => {
      const decoder = new HpackDecoder();
      throwsHpack(decoder, [0x80], /index 0/);
      throwsHpack(decoder, [0xbe], /index 62 is past the table \(61 entries\)/);
      throwsHpack(decoder, [0x7e, 0x01, 0x61], /index 62 is past the table/); // literal, indexed name
      throwsHpack(decoder, [0x0f, 0x3f, 0x00], /index 78 is past the table/);
      throwsHpack(decoder, [0xff], /integer past the end/);
      throwsHpack(decoder, [0xff, 0x80], /integer past the end/);
      throwsHpack(decoder, [0xff, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], /integer too long/);
      throwsHpack(decoder, [0xff, 0xff, 0xff, 0xff, 0xff, 0x0f], /integer \d+ too large/);
      throwsHpack(decoder, [0x04], /string literal past the end/); // :path and no value
      throwsHpack(decoder, [0x40, 0x05, 0x61], /string literal past the end/);
      throwsHpack(decoder, [0x44, 0x7f, 0xff, 0xff, 0xff, 0xff, 0x03], /string literal past the end/);
      throwsHpack(decoder, [0x00, 0x7f], /integer past the end/);
      // Zero continuation bytes are long-winded but valid: name index 15 + 0, empty value.
      assert.deepEqual(decoder.decode(Uint8Array.from([0x0f, 0x80, 0x80, 0x80, 0x00, 0x00])), [
        'accept-charset',
        '',
      ]);
      assert.deepEqual(tableOf(decoder), []);
    });

    it('decodes an oversized header list in full, then throws tooLarge with the table in step', () => {
      const decoder = new HpackDecoder({ maxHeaderListBytes: 150 });
      const peer = new HpackPeer();
      const big = ['x-big', 'v'.repeat(70), 'x-next', 'w'.repeat(40)]; // 107 + 78 bytes
      const error = throwsHpack(
        decoder,
        peer.encode(big),
        /header list of 185 bytes exceeds the limit of 150/,
      );
      assert.equal(error.tooLarge, true);
      assert.deepEqual(tableOf(decoder), peer.table);
      assert.deepEqual(decoder.decode(peer.encode(['x-next', 'w'.repeat(40)])), ['x-next', 'w'.repeat(40)]);
      assert.deepEqual(decoder.decode(peer.encode([':method', 'GET', 'x-big', 'v'.repeat(20)])), [
        ':method',
        'GET',
        'x-big',
        'v'.repeat(20),
      ]);
      assert.equal(throwsHpack(decoder, [0x80], /index 0/).tooLarge, false);
    });

    it('fuzz: random and mutated blocks only ever throw HpackError, within bounds', () => {
      const random = prng(2024);
      const seeds = RFC_SEQUENCES.flatMap((s) => s.blocks.map((b) => bytes(b.hex)));
      const limits = { maxTableSize: 256, maxHeaderListBytes: 1024 };
      let decoder = new HpackDecoder(limits);
      let thrown = 0;
      const started = Date.now();
      for (let i = 0; i < 4000; i++) {
        let block: Uint8Array;
        if (i % 2 === 0) {
          block = Uint8Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256));
        } else {
          const seed = Array.from(seeds[Math.floor(random() * seeds.length)]!);
          for (let m = 1 + Math.floor(random() * 4); m > 0; m--) {
            const at = Math.floor(random() * seed.length);
            const kind = random();
            if (kind < 0.5) seed[at] = Math.floor(random() * 256);
            else if (kind < 0.7) seed.splice(at, 1);
            else if (kind < 0.85) seed.splice(at, 0, Math.floor(random() * 256));
            else seed.length = at;
          }
          block = Uint8Array.from(seed);
        }
        try {
          const fields = decoder.decode(block);
          assert.ok(fields.length % 2 === 0 && fields.length <= 2 * block.length);
          assert.ok(
            sizeOf(fields.flatMap((_, j) => (j % 2 ? [] : [[fields[j]!, fields[j + 1]!] as const]))) <= 1024,
          );
        } catch (e) {
          if (!(e instanceof HpackError))
            throw new Error(`block ${Buffer.from(block).toString('hex')}: ${String(e)}`);
          thrown++;
          if (!e.tooLarge) decoder = new HpackDecoder(limits); // the connection would be gone
        }
        if (i % 100 === 0) assert.ok(sizeOf(tableOf(decoder)) <= limits.maxTableSize);
      }
      assert.ok(thrown > 1000 && thrown < 4000, `${thrown} of 4000 threw`);
      assert.ok(Date.now() - started < 5000);
    });
  });
});
