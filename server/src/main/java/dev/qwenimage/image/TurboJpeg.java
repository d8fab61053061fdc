package dev.qwenimage.image;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.NativeLongByReference;
import com.sun.jna.ptr.PointerByReference;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.awt.image.SinglePixelPackedSampleModel;
import java.nio.ByteOrder;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * libjpeg-turbo's TurboJPEG API called in-process through JNA: the pixels of a TYPE_INT_RGB
 * picture go to {@code tjCompress2} as they lie in the Java array (BGRX on little-endian
 * machines), with no conversion or copy on the Java side. Compressor handles are not thread-safe,
 * so each encode borrows one from a pool (as many as encodes ever ran at once).
 */
public final class TurboJpeg implements JpegEncoder {
    private static final int TJPF_BGRX = 3;
    private static final int TJPF_XRGB = 5;
    private static final int TJSAMP_420 = 2;

    private final String library;
    private final int pixelFormat = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? TJPF_BGRX : TJPF_XRGB;
    private final ConcurrentLinkedQueue<Pointer> handles = new ConcurrentLinkedQueue<>();

    /** The TurboJPEG functions used (libturbojpeg 1.4 and later, 2.x and 3.x alike). */
    private static final class Lib {
        static native Pointer tjInitCompress();

        static native int tjCompress2(Pointer handle, int[] src, int width, int pitch, int height, int pixelFormat,
                                      PointerByReference jpegBuf, NativeLongByReference jpegSize, int subsamp, int quality, int flags);

        static native void tjFree(Pointer buffer);

        static native String tjGetErrorStr2(Pointer handle);
    }

    private TurboJpeg(String library) {
        this.library = library;
    }

    /**
     * Loads libturbojpeg (the system's, as the dynamic linker finds it) and encodes a small test
     * picture with it; throws when either fails, so that nothing half-working is ever chosen.
     */
    static synchronized TurboJpeg load() {
        if (loaded == null) {
            try {
                loaded = first();
            } catch (RuntimeException | LinkageError e) {
                loaded = e; // the same answer for every later start in this process: it cannot change
            }
        }
        if (loaded instanceof TurboJpeg t) {
            return t;
        }
        if (loaded instanceof RuntimeException e) {
            throw e;
        }
        throw (LinkageError) loaded;
    }

    private static Object loaded;

    private static TurboJpeg first() {
        NativeLibrary lib = NativeLibrary.getInstance("turbojpeg", TurboJpeg.class.getClassLoader());
        Native.register(Lib.class, lib);
        TurboJpeg encoder = new TurboJpeg(lib.getFile() == null ? lib.getName() : lib.getFile().toString());
        BufferedImage probe = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
        byte[] jpeg = encoder.encode(probe, 90);
        if (jpeg.length < 4 || (jpeg[0] & 0xff) != 0xFF || (jpeg[1] & 0xff) != 0xD8) {
            throw new IllegalStateException("libturbojpeg produced no JPEG for a test picture");
        }
        return encoder;
    }

    @Override
    public byte[] encode(BufferedImage rgb, int quality) {
        BufferedImage packed = packed(rgb);
        int[] pixels = ((DataBufferInt) packed.getRaster().getDataBuffer()).getData();
        Pointer handle = handles.poll();
        if (handle == null) {
            handle = Lib.tjInitCompress();
            if (handle == null) {
                throw new IllegalStateException("libturbojpeg could not create a compressor");
            }
        }
        PointerByReference out = new PointerByReference();
        NativeLongByReference size = new NativeLongByReference();
        try {
            int rc = Lib.tjCompress2(handle, pixels, packed.getWidth(), 0, packed.getHeight(), pixelFormat, out, size,
                    TJSAMP_420, quality, 0);
            if (rc != 0) {
                throw new IllegalStateException("libturbojpeg failed to encode: " + Lib.tjGetErrorStr2(handle));
            }
            return out.getValue().getByteArray(0, Math.toIntExact(size.getValue().longValue()));
        } finally {
            if (out.getValue() != null) {
                Lib.tjFree(out.getValue());
            }
            handles.offer(handle);
        }
    }

    /** {@code rgb} itself when its pixels are one packed int array with no padding, else a packed copy. */
    private static BufferedImage packed(BufferedImage rgb) {
        if (rgb.getType() == BufferedImage.TYPE_INT_RGB
                && rgb.getSampleModel() instanceof SinglePixelPackedSampleModel sm
                && sm.getScanlineStride() == rgb.getWidth()
                && rgb.getRaster().getDataBuffer().getOffset() == 0
                && rgb.getRaster().getSampleModelTranslateX() == 0 && rgb.getRaster().getSampleModelTranslateY() == 0
                && rgb.getRaster().getDataBuffer().getNumBanks() == 1) {
            return rgb;
        }
        BufferedImage copy = new BufferedImage(rgb.getWidth(), rgb.getHeight(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = copy.createGraphics();
        try {
            g.drawImage(rgb, 0, 0, null);
        } finally {
            g.dispose();
        }
        return copy;
    }

    @Override
    public String describe() {
        return "libjpeg-turbo (native, in-process: " + library + ")";
    }
}
