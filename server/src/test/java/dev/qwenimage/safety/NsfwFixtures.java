package dev.qwenimage.safety;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * The parity fixtures (src/test/resources/nsfw/fixtures) and what nsfwjs computed for them
 * (nsfw/reference.json, written by tools/nsfw/reference.js on TF.js's CPU backend).
 */
final class NsfwFixtures {
    /** One fixture: its file, the decoded pixels' checksum and nsfwjs's probabilities in class order. */
    record Fixture(String file, int width, int height, String rgbSha256, double[] expected) {
        BufferedImage image() {
            try (InputStream in = NsfwFixtures.class.getResourceAsStream("/nsfw/fixtures/" + file)) {
                if (in == null) {
                    throw new IllegalStateException("missing fixture " + file);
                }
                return ImageIO.read(in);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        NsfwClass expectedTop() {
            int best = 0;
            for (int i = 1; i < expected.length; i++) {
                if (expected[i] > expected[best]) {
                    best = i;
                }
            }
            return NsfwClass.values()[best];
        }

        @Override
        public String toString() {
            return file;
        }
    }

    private static JsonNode reference;

    private NsfwFixtures() {
    }

    static synchronized JsonNode reference() {
        if (reference == null) {
            try (InputStream in = NsfwFixtures.class.getResourceAsStream("/nsfw/reference.json")) {
                reference = new ObjectMapper().readTree(in);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return reference;
    }

    static List<String> classes() {
        List<String> names = new ArrayList<>();
        reference().get("classes").forEach(c -> names.add(c.asText()));
        return names;
    }

    static List<Fixture> all() {
        List<String> classes = classes();
        List<Fixture> fixtures = new ArrayList<>();
        JsonNode all = reference().get("fixtures");
        for (Iterator<String> it = all.fieldNames(); it.hasNext(); ) {
            String file = it.next();
            JsonNode f = all.get(file);
            double[] expected = new double[classes.size()];
            for (int i = 0; i < expected.length; i++) {
                expected[i] = f.get("probabilities").get(classes.get(i)).asDouble();
            }
            fixtures.add(new Fixture(file, f.get("width").asInt(), f.get("height").asInt(), f.get("rgbSha256").asText(), expected));
        }
        return fixtures;
    }

    static Fixture named(String file) {
        return all().stream().filter(f -> f.file().equals(file)).findFirst().orElseThrow();
    }
}
