package dev.qwenimage.support;

import com.adobe.internal.xmp.XMPMeta;
import com.drew.imaging.ImageMetadataReader;
import com.drew.metadata.Metadata;
import com.drew.metadata.xmp.XmpDirectory;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.qwenimage.image.AigcLabel;
import java.io.ByteArrayInputStream;

/** Reads the implicit AIGC label of a file the way any standard metadata tool does (metadata-extractor, Adobe XMP core). */
public final class JpegLabels {
    private JpegLabels() {
    }

    /** The TC260:AIGC value as JSON, or null when the file carries none. */
    public static JsonNode aigc(byte[] image) throws Exception {
        Metadata metadata = ImageMetadataReader.readMetadata(new ByteArrayInputStream(image));
        for (XmpDirectory dir : metadata.getDirectoriesOfType(XmpDirectory.class)) {
            XMPMeta xmp = dir.getXMPMeta();
            String value = xmp.getPropertyString(AigcLabel.NAMESPACE, "AIGC");
            if (value != null) {
                return new ObjectMapper().readTree(value);
            }
        }
        return null;
    }
}
