package dev.qwenimage.image;

import java.awt.image.BufferedImage;
import javax.imageio.ImageWriteParam;

/** The portable JPEG encoder: the JDK's ImageIO writer, present in every JDK. */
public record ImageIoJpeg(String reason) implements JpegEncoder {

    @Override
    public byte[] encode(BufferedImage rgb, int quality) {
        return ImagePipeline.write(rgb, "jpeg", param -> {
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionQuality(quality / 100f);
        });
    }

    @Override
    public String describe() {
        return "ImageIO (pure Java; " + reason + ")";
    }
}
