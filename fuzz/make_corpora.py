#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/): small valid inputs
of every form each reader accepts, and a few near misses. Plain Python, no packages.
Files named finding_* are not written here: they are inputs a fuzzer once failed on, kept
so that `scripts/fuzz replay` checks the fix."""
import gzip
import json
import os
import struct
import zlib

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(target, name, data):
    os.makedirs(os.path.join(HERE, target), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(HERE, target, name), "wb") as f:
        f.write(data)


def safetensors(tensors, metadata=None, pad=True):
    header, blobs, offset = {}, b"", 0
    if metadata:
        header["__metadata__"] = metadata
    for name, (dtype, shape, data) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        blobs += data
        offset += len(data)
    text = json.dumps(header).encode()
    if pad:
        text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + blobs


def png(width, height, color_type, channels, depth=8):
    rows = b"".join(b"\0" + bytes((x * 37 + y * 11) % 256 for x in range(width * channels)) for y in range(height))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def bmp(width, height):
    row = (width * 3 + 3) // 4 * 4
    pixels = b"".join(bytes((x * 50 + y) % 256 for x in range(width * 3)) + b"\0" * (row - width * 3)
                      for y in range(height))
    header = b"BM" + struct.pack("<IHHI", 54 + len(pixels), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    return header + info + pixels


def jpeg(width, height, components, restart=0):
    """A baseline JPEG whose every block is flat (DC difference 0, then end of block): one
    1-bit Huffman code per table, so each block is two 0 bits. components 3 uses 4:2:0
    sampling (a 16x16 MCU of 4 Y, 1 Cb and 1 Cr block); restart > 0 adds a DRI segment and
    restart markers every `restart` MCUs."""
    def segment(marker, body):
        return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body

    sampling = [0x22, 0x11, 0x11] if components == 3 else [0x11]
    mcu = 16 if components == 3 else 8
    blocks_per_mcu = 6 if components == 3 else 1
    mcus = ((width + mcu - 1) // mcu) * ((height + mcu - 1) // mcu)
    out = b"\xff\xd8" + segment(0xDB, b"\x00" + bytes([1] * 64))
    out += segment(0xC0, struct.pack(">BHHB", 8, height, width, components) +
                   b"".join(bytes([i + 1, sampling[i], 0]) for i in range(components)))
    one_code = bytes([1] + [0] * 15)
    out += segment(0xC4, b"\x00" + one_code + b"\x00" + b"\x10" + one_code + b"\x00")
    if restart:
        out += segment(0xDD, struct.pack(">H", restart))
    out += segment(0xDA, bytes([components]) + b"".join(bytes([i + 1, 0x00]) for i in range(components)) +
                   b"\x00\x3f\x00")
    group = restart or mcus
    for first in range(0, mcus, group):
        bits = 2 * blocks_per_mcu * min(group, mcus - first)
        out += bytes([0x00] * (bits // 8)) + (bytes([0xFF >> (bits % 8)]) if bits % 8 else b"")
        if first + group < mcus:
            out += bytes([0xFF, 0xD0 + (first // group) % 8])
    return out + b"\xff\xd9"


def idx(dims, dtype=0x08):
    data = bytes(i % 256 for i in range(max(1, eval("*".join(map(str, dims))))))
    return struct.pack(">BBBB", 0, 0, dtype, len(dims)) + b"".join(struct.pack(">I", d) for d in dims) + data


def main():
    f32 = struct.pack("<4f", 1.0, -2.0, 0.5, 3.25)
    put("safetensors", "valid", safetensors({"w": ("F32", [2, 2], f32), "m": ("U8", [3], b"\x00\x01\xff")},
                                            {"step": "7", "spec": "{}"}))
    put("safetensors", "empty_header", safetensors({}))
    put("safetensors", "scalar", safetensors({"s": ("F32", [], f32[:4])}))
    put("safetensors", "zero_size", safetensors({"z": ("F32", [0, 3], b""), "w": ("F32", [1], f32[:4])}))
    put("safetensors", "unpadded", safetensors({"w": ("F32", [4], f32)}, pad=False))
    put("safetensors", "f16", safetensors({"h": ("F16", [2], b"\0\0\0\0")}))

    put("idx", "images", idx([2, 3, 3]))
    put("idx", "labels", idx([5]))
    put("idx", "images_gz", gzip.compress(idx([2, 4, 4])))
    put("idx", "int32", idx([2], dtype=0x0C))

    put("image", "gray.png", png(5, 3, 0, 1))
    put("image", "rgb.png", png(4, 4, 2, 3))
    put("image", "rgba.png", png(3, 2, 6, 4))
    put("image", "gray_alpha.png", png(2, 2, 4, 2))
    put("image", "rgb.bmp", bmp(3, 2))
    put("image", "gray.jpg", jpeg(8, 8, 1))
    put("image", "color_420.jpg", jpeg(20, 12, 3))
    put("image", "restarts.jpg", jpeg(16, 16, 1, restart=1))

    put("attributes", "celeba",
        "3\nSmiling Male Young\n000001.jpg  1 -1  1\n000002.jpg -1 -1  1\n000003.jpg  1  1 -1\n")
    put("attributes", "one_row", "1\nA\nx.png 1\n")
    put("attributes", "bad_value", "2\nA B\na.png 1 0\nb.png -1 1\n")

    # Flags: arguments separated by NUL bytes.
    put("flags", "all_kinds", "\0".join(["--name", "abc", "--count", "12", "--rate", "1e-3", "--on",
                                         "--classes", "0,3,7", "--names", "Red,Large"]))
    put("flags", "unknown", "\0".join(["--bogus", "1"]))
    put("flags", "bad_int", "\0".join(["--count", "12x"]))
    put("flags", "empty_item", "\0".join(["--names", "Red,,Large"]))

    spec = {"attributes": [{"name": "Large", "parents": [], "p": [0.5]},
                           {"name": "Red", "parents": ["Large"], "p": [0.2, 0.8]}]}
    put("world_spec", "two_attributes", "Red=-1,Large=1\n" + json.dumps(spec))
    put("world_spec", "defaults_only", "Large=1\n")
    put("world_spec", "direct", "direct\n{}")
    put("world_spec", "bad_parent", "Red=1\n" + json.dumps(
        {"attributes": [{"name": "Red", "parents": ["Blue"], "p": [0.5, 0.5]}]}))


if __name__ == "__main__":
    main()
