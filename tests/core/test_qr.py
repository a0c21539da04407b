"""The QR codes of medreg.core.qr (drawn by segno), read back by a reader written here from the
standard that decodes what was drawn (format information, mask, zigzag order, blocks,
Reed-Solomon check, byte-mode payload)."""

from __future__ import annotations

import pytest

from medreg.core import qr


def _gf_mul(x, y):
    z = 0
    for i in reversed(range(8)):
        z = (z << 1) ^ ((z >> 7) * 0x11D)
        z ^= ((y >> i) & 1) * x
    return z




def _read(m):
    """Decode a version 1-10 level-M symbol drawn without errors; returns the payload bytes."""
    size = len(m)
    version = (size - 17) // 4
    bits1 = ([m[8][i] for i in (0, 1, 2, 3, 4, 5, 7)] + [m[8][8], m[7][8]]
             + [m[i][8] for i in (5, 4, 3, 2, 1, 0)])
    bits2 = [m[size - 1 - i][8] for i in range(7)] + [m[8][size - 8 + i] for i in range(8)]
    # bits1 was read in the order of bits 14..0 (row 8 left to right, then column 8 bottom to top)
    fmt1 = int("".join("1" if b else "0" for b in bits1), 2)
    fmt2 = int("".join("1" if b else "0" for b in bits2), 2)
    assert fmt1 == fmt2, "the two copies of the format information differ"
    fmt = fmt1 ^ 0x5412
    assert fmt >> 13 == 0, "level M"
    mask = (fmt >> 10) & 7
    # function modules: redraw them on an empty grid with the encoder's layout rules from the standard
    func = [[False] * size for _ in range(size)]
    for y in range(size):
        for x in range(size):
            finder = (x < 9 and y < 9) or (x >= size - 8 and y < 9) or (x < 9 and y >= size - 8)
            if x == 6 or y == 6 or finder:
                func[y][x] = True
            if version >= 7 and ((x >= size - 11 and y < 6) or (y >= size - 11 and x < 6)):
                func[y][x] = True
    if version >= 2:
        n = version // 7 + 2
        step = 2 * ((version * 8 + n * 3 + 5) // (n * 4 - 4))
        pos = [6] + sorted(size - 7 - i * step for i in range(n - 1))
        for ax in pos:
            for ay in pos:
                if (ax < 9 and ay < 9) or (ax > size - 9 and ay < 9) or (ax < 9 and ay > size - 9):
                    continue  # where a finder pattern is
                for dy in range(-2, 3):
                    for dx in range(-2, 3):
                        func[ay + dy][ax + dx] = True
    masks = [lambda x, y: (x + y) % 2 == 0, lambda x, y: y % 2 == 0, lambda x, y: x % 3 == 0,
             lambda x, y: (x + y) % 3 == 0, lambda x, y: (x // 3 + y // 2) % 2 == 0,
             lambda x, y: x * y % 2 + x * y % 3 == 0, lambda x, y: (x * y % 2 + x * y % 3) % 2 == 0,
             lambda x, y: ((x + y) % 2 + x * y % 3) % 2 == 0]
    bits = []
    col, upward = size - 1, True
    while col > 0:
        if col == 6:
            col -= 1
        rows = range(size - 1, -1, -1) if upward else range(size)
        for y in rows:
            for x in (col, col - 1):
                if not func[y][x]:
                    bits.append(m[y][x] ^ masks[mask](x, y))
        upward = not upward
        col -= 2
    total = len(bits) // 8
    codewords = [int("".join("1" if b else "0" for b in bits[i * 8:i * 8 + 8]), 2) for i in range(total)]
    n_blocks = {1: 1, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 4, 8: 4, 9: 5, 10: 5}[version]
    n_ecc = {1: 10, 2: 16, 3: 26, 4: 18, 5: 24, 6: 16, 7: 18, 8: 22, 9: 22, 10: 26}[version]
    short = n_blocks - total % n_blocks
    short_data = total // n_blocks - n_ecc
    lens = [short_data if b < short else short_data + 1 for b in range(n_blocks)]
    blocks_data = [[] for _ in range(n_blocks)]
    k = 0
    for i in range(max(lens)):
        for b in range(n_blocks):
            if i < lens[b]:
                blocks_data[b].append(codewords[k])
                k += 1
    blocks_ecc = [[] for _ in range(n_blocks)]
    for _i in range(n_ecc):
        for b in range(n_blocks):
            blocks_ecc[b].append(codewords[k])
            k += 1
    for d, e in zip(blocks_data, blocks_ecc, strict=True):
        received = d + e  # highest power first
        root = 1
        for _ in range(n_ecc):
            acc = 0
            for c in received:
                acc = _gf_mul(acc, root) ^ c
            assert acc == 0, "Reed-Solomon syndrome is not zero"
            root = _gf_mul(root, 2)
    data = [c for blk in blocks_data for c in blk]
    stream = "".join(format(c, "08b") for c in data)
    assert stream[:4] == "0100", "byte mode"
    count_bits = 8 if version <= 9 else 16
    n = int(stream[4:4 + count_bits], 2)
    start = 4 + count_bits
    return bytes(int(stream[start + 8 * i:start + 8 * i + 8], 2) for i in range(n))


@pytest.mark.parametrize("text", [
    "https://medreg.example.org/verify/export?number=No.MDBJ2026000001&code=7KVX-N3PA-5J3V",
    "A",
    "医疗器械出口销售证明 京药监械出2026000001号",
    "x" * 150,  # version 8, two block lengths
    "y" * 200,  # version 10, 16-bit count
])
def test_what_is_drawn_reads_back(text):
    m = qr.encode(text)
    assert len(m) in {17 + 4 * v for v in range(1, 11)}
    assert _read(m) == text.encode("utf-8")
    # finder pattern in the three corners, timing pattern between them
    size = len(m)
    for x0, y0 in ((0, 0), (size - 7, 0), (0, size - 7)):
        assert all(m[y0][x0 + i] for i in range(7)) and m[y0 + 2][x0 + 2] and not m[y0 + 1][x0 + 1]
    assert [m[6][x] for x in range(8, size - 8)] == [x % 2 == 0 for x in range(8, size - 8)]


def test_too_long_is_refused_and_svg_is_well_formed():
    with pytest.raises(ValueError):  # level M holds at most 2,331 bytes (version 40)
        qr.encode("z" * 2400)
    svg = qr.svg("https://example.org/", title="No.MD<x>")
    assert svg.startswith("<svg") and svg.endswith("</svg>") and "No.MD&lt;x&gt;" in svg
