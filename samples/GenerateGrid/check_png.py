"""Checks the grid GenerateGrid wrote: a valid 8-bit RGB PNG of ROWS rows of COLS tiles of SIDE pixels (4-pixel
gutters, the labels in a column on the left), every tile holding a picture (not one flat colour), every label drawn.

usage: python3 check_png.py GRID.png ROWS COLS SIDE      (standard library only)
"""
import struct
import sys
import zlib

GUTTER = 4


def read_rgb(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"{path}: not a PNG file")
    pos, chunks = 8, {}
    while pos < len(data):
        (length,), kind = struct.unpack(">I", data[pos:pos + 4]), data[pos + 4:pos + 8]
        chunks.setdefault(kind, []).append(data[pos + 8:pos + 8 + length])
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][0][:10])
    channels = {0: 1, 2: 3, 6: 4}.get(colour)
    if depth != 8 or channels is None:
        sys.exit(f"{path}: bit depth {depth}, colour type {colour}; expected 8-bit grey, RGB or RGBA")
    raw = zlib.decompress(b"".join(chunks[b"IDAT"]))
    stride, rows, prev = width * channels, [], bytearray(width * channels)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b, c = prev[i], prev[i - channels] if i >= channels else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            predictor = [0, a, b, (a + b) // 2, a if pa <= pb and pa <= pc else b if pb <= pc else c][kind]
            line[i] = (line[i] + predictor) & 0xFF
        rows.append([line[x * channels] for x in range(width)])  # the first channel is enough: the tiles are grey
        prev = line
    return width, height, rows


def main():
    path, n_rows, n_cols, side = sys.argv[1], *map(int, sys.argv[2:5])
    width, height, px = read_rgb(path)
    if height != n_rows * (side + GUTTER) + GUTTER:
        sys.exit(f"{path}: height {height}, expected {n_rows} rows of {side} pixels")
    label_width = width - n_cols * (side + GUTTER)
    if label_width <= 2 * GUTTER:
        sys.exit(f"{path}: width {width} leaves no label column for {n_cols} tiles of {side} pixels")
    for r in range(n_rows):
        top = GUTTER + r * (side + GUTTER)
        label = [v for y in range(top, top + side) for v in px[y][:label_width]]
        if max(label) < 200:
            sys.exit(f"{path}: row {r} has no label")
        for k in range(n_cols):
            left = label_width + k * (side + GUTTER)
            tile = [v for y in range(top, top + side) for v in px[y][left:left + side]]
            if max(tile) - min(tile) < 64 or len(set(tile)) < 16:
                sys.exit(f"{path}: tile ({r}, {k}) is flat (values {min(tile)}..{max(tile)}, {len(set(tile))} distinct)")
    print(f"{path}: {width}x{height}, {n_rows} labelled rows of {n_cols} images of {side} pixels, none flat")


main()
