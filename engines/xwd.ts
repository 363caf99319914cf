/**
 * Screenshots of an Xvfb display without ImageMagick: `xwd -root` (Debian package x11-apps) dumps
 * the screen as an XWD image, converted here to PNG with Node's zlib. Handles what Xvfb produces:
 * ZPixmap, 24-bit depth in 24 or 32 bits per pixel, either byte order.
 */
import { deflateSync, crc32 } from 'node:zlib';
import { execFile } from 'node:child_process';

export function xwdToPng(xwd: Buffer): Buffer {
  const u32 = (i: number) => xwd.readUInt32BE(i * 4);
  const headerSize = u32(0);
  const format = u32(2);
  const width = u32(4);
  const height = u32(5);
  const byteOrder = u32(7); // 0 = LSBFirst
  const bitsPerPixel = u32(11);
  const bytesPerLine = u32(12);
  const ncolors = u32(19);
  if (format !== 2 || (bitsPerPixel !== 32 && bitsPerPixel !== 24)) {
    throw new Error(`unsupported XWD image: format ${format}, ${bitsPerPixel} bits per pixel`);
  }
  const bpp = bitsPerPixel / 8;
  const data = headerSize + ncolors * 12;
  const rows = Buffer.alloc(height * (1 + width * 3));
  for (let y = 0; y < height; y++) {
    const out = y * (1 + width * 3);
    rows[out] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const p = data + y * bytesPerLine + x * bpp;
      // LSBFirst stores B, G, R(, pad); MSBFirst (pad,) R, G, B.
      const o = bpp - 3;
      const [r, g, b] = byteOrder === 0 ? [xwd[p + 2]!, xwd[p + 1]!, xwd[p]!] : [xwd[p + o]!, xwd[p + o + 1]!, xwd[p + o + 2]!];
      rows[out + 1 + x * 3] = r;
      rows[out + 2 + x * 3] = g;
      rows[out + 3 + x * 3] = b;
    }
  }
  const chunk = (type: string, body: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length);
    const tb = Buffer.concat([Buffer.from(type, 'ascii'), body]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(tb) >>> 0);
    return Buffer.concat([len, tb, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** PNG of the whole X display, or an error saying what to install. */
export function screenshotDisplay(display: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile('xwd', ['-root', '-silent', '-display', display], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => {
      if (err) {
        reject(new Error(`xwd failed (${err.message}); install it: apt-get install -y x11-apps`));
        return;
      }
      try {
        resolve(xwdToPng(stdout));
      } catch (e) {
        reject(e as Error);
      }
    });
  });
}
