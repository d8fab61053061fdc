package dev.qwenimage.image;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.support.JpegLabels;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/** The implicit AIGC label (GB 45438-2025) reads back with a standard metadata reader. */
class AigcLabelTest {
    private final AigcLabel label = new AigcLabel("Example AI Ltd.");
    private final byte[] jpeg = new ImagePipeline(90).encodeJpeg(WatermarkTest.uniform(64, 48, Color.ORANGE));

    private static JsonNode readLabel(byte[] jpeg) throws Exception {
        return JpegLabels.aigc(jpeg);
    }

    @Test
    void labelReadsBackWithEveryFieldOfTheStandard() throws Exception {
        byte[] labelled = label.embed(jpeg, "0199f3c2-7d2a-7c4e-9a51-3f7e2b8d1c44");
        JsonNode aigc = readLabel(labelled);
        assertThat(aigc).isNotNull();
        List<String> fields = new java.util.ArrayList<>();
        aigc.fieldNames().forEachRemaining(fields::add);
        assertThat(fields).containsExactly("Label", "ContentProducer", "ProduceID", "ReservedCode1",
                "ContentPropagator", "PropagateID", "ReservedCode2");
        assertThat(aigc.get("Label").asText()).isEqualTo("1");
        assertThat(aigc.get("ContentProducer").asText()).isEqualTo("Example AI Ltd.");
        assertThat(aigc.get("ProduceID").asText()).isEqualTo("0199f3c2-7d2a-7c4e-9a51-3f7e2b8d1c44");
        assertThat(aigc.get("ReservedCode1").asText()).isEmpty();
    }

    @Test
    void labelledJpegStillDecodesToTheSamePicture() throws Exception {
        byte[] labelled = label.embed(jpeg, "task");
        BufferedImage before = ImageIO.read(new ByteArrayInputStream(jpeg));
        BufferedImage after = ImageIO.read(new ByteArrayInputStream(labelled));
        assertThat(after.getWidth()).isEqualTo(64);
        assertThat(after.getRGB(10, 10)).isEqualTo(before.getRGB(10, 10));
    }

    @Test
    void producerNamesWithQuotesAndMarkupSurviveTheRoundTrip() throws Exception {
        byte[] labelled = new AigcLabel("A \"quoted\" <b>& co</b> 公司").embed(jpeg, "t");
        assertThat(readLabel(labelled).get("ContentProducer").asText()).isEqualTo("A \"quoted\" <b>& co</b> 公司");
    }

    @Test
    void anUnlabelledJpegHasNoLabel() throws Exception {
        assertThat(readLabel(jpeg)).isNull();
    }
}
