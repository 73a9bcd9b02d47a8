# Writes the decode test PNGs and what Pillow (HF load_image) makes of them.
# Run: python gen_decode.py <this folder>   (needs numpy + Pillow; versions recorded in the JSON)
import io, json, struct, zlib, sys
import numpy as np
from PIL import Image, ImageOps
import PIL

OUT = sys.argv[1]

def chunk(t, d):
    c = struct.pack(">I", len(d)) + t + d
    return c + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)

def png(w, h, bitdepth, colortype, rows, plte=None, trns=None, exif=None):
    raw = b"".join(b"\x00" + r for r in rows)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bitdepth, colortype, 0, 0, 0))
    if plte is not None: out += chunk(b"PLTE", plte)
    if trns is not None: out += chunk(b"tRNS", trns)
    if exif is not None: out += chunk(b"eXIf", exif)
    out += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    return out

rng = np.random.default_rng(7)
W, H = 5, 3
cases = {}
def add(name, data):
    cases[name] = data

# 16-bit gray: values straddling 255 so saturation shows
g16 = rng.integers(0, 65536, size=(H, W), dtype=np.uint32); g16[0, :3] = [0, 200, 255]; g16[1, :2] = [256, 300]
add("gray16", png(W, H, 16, 0, [b"".join(struct.pack(">H", int(v)) for v in r) for r in g16]))
rgb16 = rng.integers(0, 65536, size=(H, W, 3))
add("rgb16", png(W, H, 16, 2, [b"".join(struct.pack(">H", int(v)) for v in r.reshape(-1)) for r in rgb16]))
rgba16 = rng.integers(0, 65536, size=(H, W, 4))
add("rgba16", png(W, H, 16, 6, [b"".join(struct.pack(">H", int(v)) for v in r.reshape(-1)) for r in rgba16]))
la16 = rng.integers(0, 65536, size=(H, W, 2))
add("la16", png(W, H, 16, 4, [b"".join(struct.pack(">H", int(v)) for v in r.reshape(-1)) for r in la16]))
la8 = rng.integers(0, 256, size=(H, W, 2), dtype=np.uint8)
add("la8", png(W, H, 8, 4, [r.tobytes() for r in la8]))
rgba8 = rng.integers(0, 256, size=(H, W, 4), dtype=np.uint8); rgba8[0, 0, 3] = 0
add("rgba8", png(W, H, 8, 6, [r.tobytes() for r in rgba8]))
# 2-bit gray: 4 px per byte
def pack(vals, bits):
    out = bytearray(); acc = 0; n = 0
    for v in vals:
        acc = (acc << bits) | int(v); n += bits
        if n == 8: out.append(acc); acc = 0; n = 0
    if n: out.append(acc << (8 - n))
    return bytes(out)
g2 = rng.integers(0, 4, size=(H, W))
add("gray2", png(W, H, 2, 0, [pack(r, 2) for r in g2]))
g1 = rng.integers(0, 2, size=(H, W))
add("gray1", png(W, H, 1, 0, [pack(r, 1) for r in g1]))
# 4-bit palette with transparency
pal = rng.integers(0, 256, size=(16, 3), dtype=np.uint8)
p4 = rng.integers(0, 16, size=(H, W))
add("palette4_trns", png(W, H, 4, 3, [pack(r, 4) for r in p4], plte=pal.tobytes(), trns=bytes([0, 128, 255])))
# EXIF orientation 6 (rotate 90 CW to display) and 3 (180) on an 8-bit RGB PNG
def exif(orient):
    ifd = struct.pack("<H", 1) + struct.pack("<HHII", 0x0112, 3, 1, orient) + struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", 8) + ifd
rgb8 = rng.integers(0, 256, size=(H, W, 3), dtype=np.uint8)
add("rgb8_exif6", png(W, H, 8, 2, [r.tobytes() for r in rgb8], exif=exif(6)))
add("rgb8_exif3", png(W, H, 8, 2, [r.tobytes() for r in rgb8], exif=exif(3)))

manifest = {"pillow_version": PIL.__version__, "note": "PIL.Image.open -> ImageOps.exif_transpose -> convert('RGB') (transformers load_image)", "cases": []}
for name, data in cases.items():
    with open(f"{OUT}/{name}.png", "wb") as f: f.write(data)
    im = Image.open(io.BytesIO(data)); mode = im.mode
    im = ImageOps.exif_transpose(im).convert("RGB")
    a = np.asarray(im)
    manifest["cases"].append({"file": f"{name}.png", "pil_mode": mode, "width": im.size[0], "height": im.size[1], "rgb_hex": a.tobytes().hex()})
    print(name, mode, im.size)
with open(f"{OUT}/decode_expected.json", "w") as f: json.dump(manifest, f, indent=1); f.write("\n")
