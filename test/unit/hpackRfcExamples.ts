/**
 * The examples of RFC 7541 Appendix C: each header block's bytes, the fields it decodes to, and
 * the dynamic table after it (newest entry first) with the table's size. Blocks of a sequence go
 * through one decoder in order; each C.2 example is its own sequence.
 */

export interface RfcBlock {
  readonly hex: string;
  readonly fields: readonly string[];
  readonly table: readonly (readonly [string, string])[];
  readonly size: number;
}

export interface RfcSequence {
  readonly name: string;
  readonly maxTableSize: number;
  readonly blocks: readonly RfcBlock[];
}

const REQUEST_1 = [':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'www.example.com'];
const REQUEST_2 = [...REQUEST_1, 'cache-control', 'no-cache'];
const REQUEST_3 = [
  ...[':method', 'GET', ':scheme', 'https', ':path', '/index.html', ':authority', 'www.example.com'],
  ...['custom-key', 'custom-value'],
];
const AUTHORITY = [':authority', 'www.example.com'] as const;
const NO_CACHE = ['cache-control', 'no-cache'] as const;
const CUSTOM = ['custom-key', 'custom-value'] as const;

const DATE_1 = 'Mon, 21 Oct 2013 20:13:21 GMT';
const DATE_2 = 'Mon, 21 Oct 2013 20:13:22 GMT';
const LOCATION = 'https://www.example.com';
const COOKIE = 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1';
const RESPONSE_1 = [':status', '302', 'cache-control', 'private', 'date', DATE_1, 'location', LOCATION];
const RESPONSE_2 = [':status', '307', 'cache-control', 'private', 'date', DATE_1, 'location', LOCATION];
const RESPONSE_3 = [
  ...[':status', '200', 'cache-control', 'private', 'date', DATE_2, 'location', LOCATION],
  ...['content-encoding', 'gzip', 'set-cookie', COOKIE],
];
const RESPONSE_TABLES = {
  first: [
    ['location', LOCATION],
    ['date', DATE_1],
    ['cache-control', 'private'],
    [':status', '302'],
  ],
  second: [
    [':status', '307'],
    ['location', LOCATION],
    ['date', DATE_1],
    ['cache-control', 'private'],
  ],
  third: [
    ['set-cookie', COOKIE],
    ['content-encoding', 'gzip'],
    ['date', DATE_2],
  ],
} as const;

export const RFC_SEQUENCES: readonly RfcSequence[] = [
  {
    name: 'C.2.1 literal with indexing',
    maxTableSize: 4096,
    blocks: [
      {
        hex: '400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572',
        fields: ['custom-key', 'custom-header'],
        table: [['custom-key', 'custom-header']],
        size: 55,
      },
    ],
  },
  {
    name: 'C.2.2 literal without indexing',
    maxTableSize: 4096,
    blocks: [
      { hex: '040c 2f73 616d 706c 652f 7061 7468', fields: [':path', '/sample/path'], table: [], size: 0 },
    ],
  },
  {
    name: 'C.2.3 literal never indexed',
    maxTableSize: 4096,
    blocks: [
      {
        hex: '1008 7061 7373 776f 7264 0673 6563 7265 74',
        fields: ['password', 'secret'],
        table: [],
        size: 0,
      },
    ],
  },
  {
    name: 'C.2.4 indexed field',
    maxTableSize: 4096,
    blocks: [{ hex: '82', fields: [':method', 'GET'], table: [], size: 0 }],
  },
  {
    name: 'C.3 requests without Huffman',
    maxTableSize: 4096,
    blocks: [
      {
        hex: '8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
        fields: REQUEST_1,
        table: [AUTHORITY],
        size: 57,
      },
      {
        hex: '8286 84be 5808 6e6f 2d63 6163 6865',
        fields: REQUEST_2,
        table: [NO_CACHE, AUTHORITY],
        size: 110,
      },
      {
        hex: '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65',
        fields: REQUEST_3,
        table: [CUSTOM, NO_CACHE, AUTHORITY],
        size: 164,
      },
    ],
  },
  {
    name: 'C.4 requests with Huffman',
    maxTableSize: 4096,
    blocks: [
      { hex: '8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff', fields: REQUEST_1, table: [AUTHORITY], size: 57 },
      { hex: '8286 84be 5886 a8eb 1064 9cbf', fields: REQUEST_2, table: [NO_CACHE, AUTHORITY], size: 110 },
      {
        hex: '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf',
        fields: REQUEST_3,
        table: [CUSTOM, NO_CACHE, AUTHORITY],
        size: 164,
      },
    ],
  },
  {
    name: 'C.5 responses without Huffman, table size 256',
    maxTableSize: 256,
    blocks: [
      {
        hex:
          '4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a ' +
          '3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
        fields: RESPONSE_1,
        table: RESPONSE_TABLES.first,
        size: 222,
      },
      { hex: '4803 3330 37c1 c0bf', fields: RESPONSE_2, table: RESPONSE_TABLES.second, size: 222 },
      {
        hex:
          '88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 ' +
          '677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 ' +
          '553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31',
        fields: RESPONSE_3,
        table: RESPONSE_TABLES.third,
        size: 215,
      },
    ],
  },
  {
    name: 'C.6 responses with Huffman, table size 256',
    maxTableSize: 256,
    blocks: [
      {
        hex:
          '4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e ' +
          '919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3',
        fields: RESPONSE_1,
        table: RESPONSE_TABLES.first,
        size: 222,
      },
      { hex: '4883 640e ffc1 c0bf', fields: RESPONSE_2, table: RESPONSE_TABLES.second, size: 222 },
      {
        hex:
          '88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 ' +
          '821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed ' +
          '4ee5 b106 3d50 07',
        fields: RESPONSE_3,
        table: RESPONSE_TABLES.third,
        size: 215,
      },
    ],
  },
];

export function bytes(hex: string): Buffer {
  return Buffer.from(hex.replace(/\s+/g, ''), 'hex');
}
