"""A small QR code encoder (ISO/IEC 18004): byte mode, error-correction level M, versions 1-10
(up to 213 bytes), the mask with the lowest penalty. Enough for a verification URL printed on a
certificate; no dependency. Pure: text in, a matrix of booleans (True = dark) or an SVG string out.

Structure after the standard: data codewords (mode 0100, 8- or 16-bit count, terminator, pad
bytes 0xEC/0x11), Reed-Solomon error correction over GF(256) with the polynomial 0x11D, blocks
interleaved, function patterns (finders, separators, timing, alignment, dark module, format and
version information), the zigzag placement, and one of eight masks chosen by the four penalty rules.
"""

from __future__ import annotations

from html import escape

# Level M, index = version (0 unused): error-correction codewords per block and number of blocks
# (ISO/IEC 18004:2015 Table 9).
_ECC_PER_BLOCK_M = (0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26)
_BLOCKS_M = (0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5)
MAX_VERSION = 10
_FORMAT_ECL_M = 0b00  # the two level bits of the format information (L=01, M=00, Q=11, H=10)


def _raw_modules(version: int) -> int:
    """Modules left for data and error correction once the function patterns are drawn."""
    result = (16 * version + 128) * version + 64
    if version >= 2:
        n = version // 7 + 2
        result -= (25 * n - 10) * n - 55
        if version >= 7:
            result -= 36
    return result


def data_capacity(version: int) -> int:
    """Data codewords of ``version`` at level M (v1: 16, v5: 86, v10: 216)."""
    return _raw_modules(version) // 8 - _ECC_PER_BLOCK_M[version] * _BLOCKS_M[version]


def _gf_mul(x: int, y: int) -> int:
    z = 0
    for i in reversed(range(8)):
        z = (z << 1) ^ ((z >> 7) * 0x11D)
        z ^= ((y >> i) & 1) * x
    return z


def rs_divisor(degree: int) -> list[int]:
    """The generator polynomial (x - a^0)...(x - a^(degree-1)), leading 1 dropped, highest first."""
    result = [0] * (degree - 1) + [1]
    root = 1
    for _ in range(degree):
        for j in range(degree):
            result[j] = _gf_mul(result[j], root)
            if j + 1 < degree:
                result[j] ^= result[j + 1]
        root = _gf_mul(root, 0x02)
    return result


def rs_remainder(data: list[int], degree: int) -> list[int]:
    """The ``degree`` error-correction codewords of ``data``."""
    divisor = rs_divisor(degree)
    result = [0] * degree
    for b in data:
        factor = b ^ result.pop(0)
        result.append(0)
        for i, coef in enumerate(divisor):
            result[i] ^= _gf_mul(coef, factor)
    return result


def format_bits(mask: int) -> int:
    """15 format bits of level M and ``mask`` (BCH(15,5), XOR 0x5412)."""
    data = _FORMAT_ECL_M << 3 | mask
    rem = data
    for _ in range(10):
        rem = (rem << 1) ^ ((rem >> 9) * 0x537)
    return (data << 10 | rem) ^ 0x5412


def version_bits(version: int) -> int:
    """18 version bits (BCH(18,6)), drawn from version 7 on."""
    rem = version
    for _ in range(12):
        rem = (rem << 1) ^ ((rem >> 11) * 0x1F25)
    return version << 12 | rem


def _codewords(data: bytes) -> tuple[int, list[int]]:
    for version in range(1, MAX_VERSION + 1):
        count_bits = 8 if version <= 9 else 16
        capacity = data_capacity(version) * 8
        if 4 + count_bits + 8 * len(data) <= capacity:
            break
    else:
        raise ValueError(f"text too long for a version-{MAX_VERSION} QR code: {len(data)} bytes")
    bits: list[int] = []

    def put(value: int, n: int) -> None:
        bits.extend((value >> i) & 1 for i in reversed(range(n)))

    put(0b0100, 4)
    put(len(data), count_bits)
    for b in data:
        put(b, 8)
    put(0, min(4, capacity - len(bits)))
    put(0, -len(bits) % 8)
    pad = 0xEC
    while len(bits) < capacity:
        put(pad, 8)
        pad ^= 0xEC ^ 0x11
    codewords = [int("".join(map(str, bits[i:i + 8])), 2) for i in range(0, len(bits), 8)]
    return version, _interleave(version, codewords)


def _interleave(version: int, data: list[int]) -> list[int]:
    blocks_n, ecc_len = _BLOCKS_M[version], _ECC_PER_BLOCK_M[version]
    raw = _raw_modules(version) // 8
    short_n = blocks_n - raw % blocks_n
    short_len = raw // blocks_n
    blocks, k = [], 0
    for i in range(blocks_n):
        n = short_len - ecc_len + (0 if i < short_n else 1)
        dat = data[k:k + n]
        k += n
        ecc = rs_remainder(dat, ecc_len)
        if i < short_n:
            dat = dat + [0]  # placeholder, skipped below
        blocks.append(dat + ecc)
    out = []
    for i in range(len(blocks[0])):
        for j, blk in enumerate(blocks):
            if i != short_len - ecc_len or j >= short_n:
                out.append(blk[i])
    return out


def _alignment_positions(version: int, size: int) -> list[int]:
    if version == 1:
        return []
    n = version // 7 + 2
    step = (version * 8 + n * 3 + 5) // (n * 4 - 4) * 2
    return [6] + sorted(size - 7 - i * step for i in range(n - 1))


class _Grid:
    def __init__(self, version: int) -> None:
        self.version = version
        self.size = version * 4 + 17
        self.dark = [[False] * self.size for _ in range(self.size)]
        self.fixed = [[False] * self.size for _ in range(self.size)]

    def set(self, x: int, y: int, dark: bool) -> None:
        self.dark[y][x] = dark
        self.fixed[y][x] = True

    def draw_function_patterns(self) -> None:
        size = self.size
        for i in range(size):
            self.set(6, i, i % 2 == 0)
            self.set(i, 6, i % 2 == 0)
        for cx, cy in ((3, 3), (size - 4, 3), (3, size - 4)):
            for dy in range(-4, 5):
                for dx in range(-4, 5):
                    x, y = cx + dx, cy + dy
                    if 0 <= x < size and 0 <= y < size:
                        self.set(x, y, max(abs(dx), abs(dy)) not in (2, 4))
        pos = _alignment_positions(self.version, size)
        last = len(pos) - 1
        for i, ax in enumerate(pos):
            for j, ay in enumerate(pos):
                if (i, j) in ((0, 0), (0, last), (last, 0)):
                    continue  # finder corners
                for dy in range(-2, 3):
                    for dx in range(-2, 3):
                        self.set(ax + dx, ay + dy, max(abs(dx), abs(dy)) != 1)
        self.draw_format(0)  # reserves the area; redrawn with the chosen mask
        if self.version >= 7:
            bits = version_bits(self.version)
            for i in range(18):
                bit = (bits >> i) & 1 == 1
                a, b = size - 11 + i % 3, i // 3
                self.set(a, b, bit)
                self.set(b, a, bit)

    def draw_format(self, mask: int) -> None:
        bits, size = format_bits(mask), self.size

        def bit(i: int) -> bool:
            return (bits >> i) & 1 == 1

        for i in range(6):
            self.set(8, i, bit(i))
        self.set(8, 7, bit(6))
        self.set(8, 8, bit(7))
        self.set(7, 8, bit(8))
        for i in range(9, 15):
            self.set(14 - i, 8, bit(i))
        for i in range(8):
            self.set(size - 1 - i, 8, bit(i))
        for i in range(8, 15):
            self.set(8, size - 15 + i, bit(i))
        self.set(8, size - 8, True)  # the dark module

    def draw_codewords(self, data: list[int]) -> None:
        size, i, right = self.size, 0, self.size - 1
        total = len(data) * 8
        while right >= 1:
            if right == 6:
                right = 5  # skip the vertical timing pattern
            upward = (right + 1) & 2 == 0
            for vert in range(size):
                y = size - 1 - vert if upward else vert
                for x in (right, right - 1):
                    if not self.fixed[y][x] and i < total:
                        self.dark[y][x] = (data[i >> 3] >> (7 - (i & 7))) & 1 == 1
                        i += 1
            right -= 2

    def apply_mask(self, mask: int) -> None:
        for y in range(self.size):
            for x in range(self.size):
                if not self.fixed[y][x] and _MASKS[mask](x, y):
                    self.dark[y][x] = not self.dark[y][x]


_MASKS = (
    lambda x, y: (x + y) % 2 == 0,
    lambda x, y: y % 2 == 0,
    lambda x, y: x % 3 == 0,
    lambda x, y: (x + y) % 3 == 0,
    lambda x, y: (x // 3 + y // 2) % 2 == 0,
    lambda x, y: x * y % 2 + x * y % 3 == 0,
    lambda x, y: (x * y % 2 + x * y % 3) % 2 == 0,
    lambda x, y: ((x + y) % 2 + x * y % 3) % 2 == 0,
)


def penalty(m: list[list[bool]]) -> int:
    """The four penalty rules of ISO/IEC 18004 7.8.3 (runs, 2x2 blocks, finder-like runs, balance)."""
    size, score = len(m), 0
    lines = [list(row) for row in m] + [[m[y][x] for y in range(size)] for x in range(size)]
    finder = ([True, False, True, True, True, False, True, False, False, False, False],
              [False, False, False, False, True, False, True, True, True, False, True])
    for line in lines:
        run, prev = 0, None
        for v in line:
            if v == prev:
                run += 1
            else:
                if run >= 5:
                    score += run - 2
                run, prev = 1, v
        if run >= 5:
            score += run - 2
        padded = [False] * 4 + line + [False] * 4
        for i in range(len(padded) - 10):
            if padded[i:i + 11] in finder:
                score += 40
    for y in range(size - 1):
        for x in range(size - 1):
            if m[y][x] == m[y][x + 1] == m[y + 1][x] == m[y + 1][x + 1]:
                score += 3
    dark = sum(sum(row) for row in m)
    total = size * size
    k = (abs(dark * 20 - total * 10) + total - 1) // total - 1
    return score + max(k, 0) * 10


def encode(text: str) -> list[list[bool]]:
    """The QR matrix of ``text`` (UTF-8), without the quiet zone; rows top to bottom."""
    version, data = _codewords(text.encode("utf-8"))
    best: tuple[int, list[list[bool]]] | None = None
    for mask in range(8):
        grid = _Grid(version)
        grid.draw_function_patterns()
        grid.draw_codewords(data)
        grid.apply_mask(mask)
        grid.draw_format(mask)
        score = penalty(grid.dark)
        if best is None or score < best[0]:
            best = (score, grid.dark)
    assert best is not None
    return best[1]


def svg(text: str, *, module: int = 4, border: int = 4, title: str = "") -> str:
    """An inline SVG of the QR code of ``text`` (black on white, a quiet zone of ``border`` modules)."""
    m = encode(text)
    size = len(m) + 2 * border
    path = "".join(
        f"M{x + border},{y + border}h1v1h-1z" for y, row in enumerate(m) for x, v in enumerate(row) if v
    )
    label = f"<title>{escape(title)}</title>" if title else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" width="{size * module}" '
        f'height="{size * module}" role="img" shape-rendering="crispEdges">{label}'
        f'<rect width="100%" height="100%" fill="#fff"/><path d="{path}" fill="#000"/></svg>'
    )
