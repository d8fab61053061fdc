package dev.qwenimage.task;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one rule for how a size is written, shared by every door: white space around it is
 * ignored; each side is a decimal whole number with no sign and no leading zero; the async API
 * puts {@code *} between them, the OpenAI-compatible door also {@code x} or {@code X}. Whether
 * the sides are in range is {@link #inRange}.
 */
public record ImageSize(int width, int height) {
    public static final int MIN_SIDE = 256;
    public static final int MAX_SIDE = 1536;
    private static final String SIDE = "([1-9][0-9]{0,4})";
    private static final Pattern CONTRACT = Pattern.compile(SIDE + "\\*" + SIDE);
    private static final Pattern OPENAI = Pattern.compile(SIDE + "[xX*]" + SIDE);

    /** {@code "<width>*<height>"}; empty when {@code text} is not written so. */
    public static Optional<ImageSize> parse(String text) {
        return parse(text, CONTRACT);
    }

    /** {@code "<width>x<height>"} (also {@code X} or {@code *}), OpenAI's spelling; empty when not written so. */
    public static Optional<ImageSize> parseOpenAi(String text) {
        return parse(text, OPENAI);
    }

    private static Optional<ImageSize> parse(String text, Pattern spelling) {
        Matcher m = spelling.matcher(text.strip());
        return m.matches() ? Optional.of(new ImageSize(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)))) : Optional.empty();
    }

    public boolean inRange() {
        return width >= MIN_SIDE && width <= MAX_SIDE && height >= MIN_SIDE && height <= MAX_SIDE;
    }

    /** As the async API writes it. */
    @Override
    public String toString() {
        return width + "*" + height;
    }
}
