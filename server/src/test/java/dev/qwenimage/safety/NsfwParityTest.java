package dev.qwenimage.safety;

import static org.assertj.core.api.Assertions.assertThat;

import dev.qwenimage.safety.NsfwFixtures.Fixture;
import java.awt.image.BufferedImage;
import java.io.File;
import java.net.URISyntaxException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The Java classifier gives what nsfwjs 4.4.0 gives: every class of every fixture within 1e-3 of
 * nsfwjs's own output on TF.js's pure-JavaScript CPU backend (tools/nsfw/reference.js). In
 * practice the difference is about 1e-6: float32 rounding in a different order.
 */
class NsfwParityTest {
    private static final double TOLERANCE = 1e-3;

    @Test
    void everyFixtureMatchesNsfwjsWithinToleranceForEveryClass() {
        NsfwModel model = NsfwModel.loadDefault();
        double maxError = 0;
        String worst = "";
        for (Fixture f : NsfwFixtures.all()) {
            NsfwScores scores = model.classify(f.image());
            for (NsfwClass c : NsfwClass.values()) {
                double error = Math.abs(scores.probability(c) - f.expected()[c.ordinal()]);
                assertThat(error).as("%s, class %s: java %s, nsfwjs %s", f, c.label(), scores.probability(c),
                        f.expected()[c.ordinal()]).isLessThanOrEqualTo(TOLERANCE);
                if (error > maxError) {
                    maxError = error;
                    worst = f.file() + " / " + c.label();
                }
            }
        }
        System.out.printf("NSFW parity: max |java - nsfwjs| = %.3g (%s) over %d fixtures%n", maxError, worst,
                NsfwFixtures.all().size());
    }

    @Test
    void javaDecodesEachFixtureToThePixelsNsfwjsClassified() throws Exception {
        for (Fixture f : NsfwFixtures.all()) {
            BufferedImage image = f.image();
            assertThat(image.getWidth()).as(f.file()).isEqualTo(f.width());
            assertThat(image.getHeight()).as(f.file()).isEqualTo(f.height());
            assertThat(rgbSha256(image)).as("RGB bytes of %s as ImageIO + ImageInput read them, vs pngjs in Node", f)
                    .isEqualTo(f.rgbSha256());
        }
    }

    @Test
    void theFixturesAreVariedAndAllHaveAReference() throws URISyntaxException {
        List<Fixture> fixtures = NsfwFixtures.all();
        assertThat(fixtures).hasSizeGreaterThanOrEqualTo(30);
        File dir = new File(Objects.requireNonNull(getClass().getResource("/nsfw/fixtures")).toURI());
        assertThat(Arrays.stream(Objects.requireNonNull(dir.list())).sorted().toList())
                .containsExactlyElementsOf(fixtures.stream().map(Fixture::file).sorted().toList());
        // the top classes nsfwjs found cover safe and unsafe classes alike
        assertThat(fixtures.stream().map(Fixture::expectedTop).distinct())
                .contains(NsfwClass.DRAWING, NsfwClass.NEUTRAL, NsfwClass.HENTAI);
        assertThat(fixtures.stream().mapToInt(Fixture::width).max().orElseThrow()).isEqualTo(1024);
        assertThat(fixtures.stream().mapToInt(Fixture::width).min().orElseThrow()).isLessThanOrEqualTo(65);
        assertThat(fixtures).anyMatch(f -> f.width() == 224 && f.height() == 224);
    }

    @Test
    void theReferenceComesFromNsfwjsOnTheCpuBackend() {
        assertThat(NsfwFixtures.reference().get("nsfwjs").asText()).isEqualTo("4.4.0");
        assertThat(NsfwFixtures.reference().get("backend").asText()).isEqualTo("cpu");
    }

    /** SHA-256 of the image as R, G, B bytes, row by row: what reference.js hashes after decoding with pngjs. */
    static String rgbSha256(BufferedImage image) throws Exception {
        ImageInput.Pixels px = ImageInput.Pixels.of(image);
        int w = image.getWidth();
        int[] xs = IntStream.range(0, w).toArray();
        int[] row = new int[w];
        byte[] bytes = new byte[3 * w];
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        for (int y = 0; y < image.getHeight(); y++) {
            px.gather(y, xs, w, row);
            for (int x = 0; x < w; x++) {
                bytes[3 * x] = (byte) (row[x] >>> 16);
                bytes[3 * x + 1] = (byte) (row[x] >>> 8);
                bytes[3 * x + 2] = (byte) row[x];
            }
            sha.update(bytes);
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}
