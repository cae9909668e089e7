# Reads a binary PPM (P6; xwdtopnm writes 16-bit samples, each 8-bit value v
# as v * 257) for the tests that compare a real window's screenshot
# (sdl_common.bash, linux_pixels.py). The tests import it with sys.path set
# to tests/integration ($TESTS_INTEGRATION, exported by common.bash).
import sys


def read_ppm(path):
    data = open(path, 'rb').read()
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b'#':
            pos = data.index(b'\n', pos)
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    pos += 1
    if fields[0] != b'P6':
        sys.exit('%s: not a binary PPM' % path)
    w, h, maxval = int(fields[1]), int(fields[2]), int(fields[3])
    size = 1 if maxval < 256 else 2

    def pixel(x, y):
        i = pos + 3 * size * (y * w + x)
        return tuple((int.from_bytes(data[i + k * size:i + (k + 1) * size], 'big') * 255 +
                      maxval // 2) // maxval for k in range(3))
    return w, h, pixel
