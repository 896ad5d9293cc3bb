#!/usr/bin/env python3
"""
Writes the HPACK Huffman code (RFC 7541 Appendix B) into src/router/h2/huffman.ts, between the
`BEGIN GENERATED` and `END GENERATED` markers, as two arrays indexed by symbol (0-255, then 256 =
EOS): the code right-aligned, and its length in bits.

The source is the PyPI package `hpack`, pinned, whose `huffman_constants` are the RFC's table. It
is not a dependency of the project: install it into a throw-away venv to rerun this script.

    python3 -m venv /tmp/hpack-venv && /tmp/hpack-venv/bin/pip install hpack==4.1.0
    /tmp/hpack-venv/bin/python tools/hpack/huffman-table.py && npx prettier --write src/router/h2/huffman.ts

Checks before writing: 257 symbols, a complete prefix code (Kraft sum exactly 1), EOS is thirty
1-bits, and a few rows copied by hand from the RFC's Appendix B.
"""
import pathlib
import re
import sys
from fractions import Fraction

import hpack
from hpack.huffman_constants import REQUEST_CODES as CODES
from hpack.huffman_constants import REQUEST_CODES_LENGTH as LENGTHS

PINNED = "4.1.0"
if hpack.__version__ != PINNED:
    sys.exit(f"hpack {hpack.__version__} is installed; this script is pinned to {PINNED}")

assert len(CODES) == len(LENGTHS) == 257
assert sum(Fraction(1, 2**n) for n in LENGTHS) == 1, "not a complete prefix code"
assert (CODES[256], LENGTHS[256]) == (0x3FFFFFFF, 30), "EOS"
# Rows of RFC 7541 Appendix B, by hand: sym, code as hex, len.
for sym, code, length in [(0, 0x1FF8, 13), (1, 0x7FFFD8, 23), (10, 0x3FFFFFFC, 30), (48, 0x0, 5),
                          (97, 0x3, 5), (255, 0x3FFFFEE, 26), (32, 0x14, 6), (126, 0x1FFD, 13)]:
    assert (CODES[sym], LENGTHS[sym]) == (code, length), sym
for code, length in zip(CODES, LENGTHS):
    assert 5 <= length <= 30 and code < 2**length

generated = (
    f"// From the PyPI package hpack=={PINNED} (hpack.huffman_constants), by tools/hpack/huffman-table.py.\n"
    "/** The code of each symbol (0-255, then 256 = EOS), right-aligned in `HUFFMAN_LENGTHS[symbol]` bits. */\n"
    f"export const HUFFMAN_CODES: readonly number[] = [{', '.join(hex(c) for c in CODES)}];\n"
    "/** The length in bits of each symbol's code, 5 to 30. */\n"
    f"export const HUFFMAN_LENGTHS: readonly number[] = [{', '.join(str(n) for n in LENGTHS)}];\n"
)
target = pathlib.Path(__file__).resolve().parents[2] / "src/router/h2/huffman.ts"
text = target.read_text()
pattern = re.compile(r"(// BEGIN GENERATED[^\n]*\n).*?(// END GENERATED)", re.S)
if not pattern.search(text):
    sys.exit(f"{target}: no BEGIN GENERATED / END GENERATED markers")
target.write_text(pattern.sub(lambda m: m.group(1) + generated + m.group(2), text))
print(f"wrote {target}")
