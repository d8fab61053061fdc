package dev.qwenimage.support;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Base64;
import javax.imageio.ImageIO;

/** Input pictures for edit tests: a recognisable layout (red left half, blue right half, a yellow square top-left). */
public final class Pictures {
    private Pictures() {
    }

    public static BufferedImage halves(int width, int height) {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setColor(new Color(220, 30, 30));
            g.fillRect(0, 0, width / 2, height);
            g.setColor(new Color(30, 30, 220));
            g.fillRect(width / 2, 0, width - width / 2, height);
            g.setColor(new Color(240, 220, 20));
            g.fillRect(0, 0, Math.max(1, width / 8), Math.max(1, height / 8));
        } finally {
            g.dispose();
        }
        return img;
    }

    public static byte[] encode(BufferedImage img, String format) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(img, format, out)) {
                throw new IllegalStateException("no writer for " + format);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    public static byte[] png(int width, int height) {
        return encode(halves(width, height), "png");
    }

    public static byte[] jpeg(int width, int height) {
        return encode(halves(width, height), "jpeg");
    }

    /**
     * A valid {@code width} x {@code height} 8-bit RGBA PNG of transparent black pixels, written
     * chunk by chunk without ever holding its pixels: its zlib stream is one deflated megabyte of
     * zero bytes repeated (each piece ends on a sync flush and refers only to the zeros before it,
     * so any number of copies decodes), ending with the remainder, and its Adler-32 is that of
     * zeros. 30,000 x 30,000 is 3.6 GB of pixels in about 3.5 MB of file, a few KB once gzipped.
     */
    public static byte[] pngBomb(int width, int height) {
        long raw = (long) height * (1 + 4L * width); // each row: filter byte 0, then RGBA zeros
        int piece = 1 << 20;
        java.util.zip.Deflater deflater = new java.util.zip.Deflater(9, true);
        byte[] zeros = new byte[piece];
        ByteArrayOutputStream z = new ByteArrayOutputStream();
        z.write(0x78);
        z.write(0xDA);
        byte[] first = deflate(deflater, zeros, piece, false);
        byte[] repeat = deflate(deflater, zeros, piece, false);
        z.writeBytes(first);
        long pieces = raw / piece;
        for (long i = 1; i < pieces; i++) {
            z.writeBytes(repeat);
        }
        z.writeBytes(deflate(deflater, zeros, (int) (raw % piece), true));
        deflater.end();
        long adler = ((raw % 65521) << 16) | 1; // Adler-32 of zeros: A = 1, B = the count
        z.write((int) (adler >>> 24));
        z.write((int) (adler >>> 16));
        z.write((int) (adler >>> 8));
        z.write((int) adler);
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        png.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A});
        java.nio.ByteBuffer ihdr = java.nio.ByteBuffer.allocate(13).putInt(width).putInt(height)
                .put((byte) 8).put((byte) 6).put((byte) 0).put((byte) 0).put((byte) 0);
        chunk(png, "IHDR", ihdr.array());
        chunk(png, "IDAT", z.toByteArray());
        chunk(png, "IEND", new byte[0]);
        return png.toByteArray();
    }

    /** {@code length} bytes of {@code input} through {@code deflater}: sync-flushed, or ending the stream when {@code last}. */
    private static byte[] deflate(java.util.zip.Deflater deflater, byte[] input, int length, boolean last) {
        deflater.setInput(input, 0, length);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[64 * 1024];
        if (last) {
            deflater.finish();
            while (!deflater.finished()) {
                out.write(buffer, 0, deflater.deflate(buffer));
            }
        } else {
            int n;
            do {
                n = deflater.deflate(buffer, 0, buffer.length, java.util.zip.Deflater.SYNC_FLUSH);
                out.write(buffer, 0, n);
            } while (n == buffer.length);
        }
        return out.toByteArray();
    }

    /** Writes one PNG chunk: length, type, data, CRC-32 of type and data. */
    public static void chunk(ByteArrayOutputStream png, String type, byte[] data) {
        byte[] name = type.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        png.writeBytes(java.nio.ByteBuffer.allocate(4).putInt(data.length).array());
        png.writeBytes(name);
        png.writeBytes(data);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(name);
        crc.update(data);
        png.writeBytes(java.nio.ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }

    /**
     * {@code jpeg} with an APP1 Exif segment holding one tag, Orientation = {@code orientation}
     * (6: the stored picture is to be turned 90 degrees clockwise to be seen upright, as phones
     * write portrait photos), put after the JFIF APP0 segment when there is one.
     */
    public static byte[] withExifOrientation(byte[] jpeg, int orientation) {
        java.nio.ByteBuffer tiff = java.nio.ByteBuffer.allocate(26); // big-endian ("MM") TIFF with IFD0 of one entry
        tiff.put((byte) 'M').put((byte) 'M').putShort((short) 42).putInt(8)
                .putShort((short) 1)
                .putShort((short) 0x0112).putShort((short) 3).putInt(1).putShort((short) orientation).putShort((short) 0)
                .putInt(0);
        byte[] exif = new byte[6 + tiff.capacity()];
        System.arraycopy("Exif\0\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0, exif, 0, 6);
        System.arraycopy(tiff.array(), 0, exif, 6, tiff.capacity());
        int at = 2; // after SOI
        if ((jpeg[2] & 0xff) == 0xFF && (jpeg[3] & 0xff) == 0xE0) {
            at = 4 + (((jpeg[4] & 0xff) << 8) | (jpeg[5] & 0xff)); // after APP0
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(jpeg, 0, at);
        out.write(0xFF);
        out.write(0xE1);
        int length = 2 + exif.length;
        out.write(length >> 8);
        out.write(length & 0xff);
        out.writeBytes(exif);
        out.write(jpeg, at, jpeg.length - at);
        return out.toByteArray();
    }

    /**
     * A PNG whose left half is fully transparent black (alpha 0, RGB 0: a decoder that drops alpha
     * shows it black) and whose right half is opaque blue.
     */
    public static byte[] halfTransparentPng(int width, int height) {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_ARGB);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                img.setRGB(x, y, x < width / 2 ? 0x00000000 : 0xFF1E1EDC);
            }
        }
        return encode(img, "png");
    }

    public static String base64(byte[] bytes) {
        return Base64.getEncoder().encodeToString(bytes);
    }

    public static BufferedImage decode(byte[] bytes) {
        try {
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(bytes));
            if (img == null) {
                throw new IllegalStateException("not an image this JDK reads");
            }
            return img;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
