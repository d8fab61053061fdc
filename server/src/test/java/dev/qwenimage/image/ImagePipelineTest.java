package dev.qwenimage.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class ImagePipelineTest {
    @Test
    void resizesToExactlyTheRequestedSizeAndEncodesJpeg() throws Exception {
        BufferedImage generated = new BufferedImage(1008, 704, BufferedImage.TYPE_INT_RGB);
        byte[] jpeg = new ImagePipeline(90).process(generated, 1000, 700);
        BufferedImage back = ImageIO.read(new ByteArrayInputStream(jpeg));
        assertThat(back.getWidth()).isEqualTo(1000);
        assertThat(back.getHeight()).isEqualTo(700);
    }

    @Test
    void lowerQualityGivesSmallerFiles() {
        BufferedImage img = new BufferedImage(512, 512, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 512; y++) {
            for (int x = 0; x < 512; x++) {
                img.setRGB(x, y, ((x * 7919 + y * 104729) % 256) * 0x010101);
            }
        }
        assertThat(new ImagePipeline(30).process(img, 512, 512).length)
                .isLessThan(new ImagePipeline(95).process(img, 512, 512).length);
    }
}
