package dev.qwenimage.sdk;

/**
 * The server's rule for the free-text fields ({@code prompt}, {@code negative_prompt}), checked
 * before sending: no unpaired surrogates (not characters; a JSON writer would garble them), no
 * control characters but tab, line feed and carriage return, and for a prompt at least one
 * character that shows (not white space, a control or an invisible formatting character).
 */
final class TextRules {
    private TextRules() {
    }

    /** Throws {@link IllegalArgumentException} naming the first character {@code text} may not hold (1 = the first). */
    static void check(String field, String text) {
        int position = 0;
        for (int i = 0; i < text.length(); ) {
            int c = text.codePointAt(i);
            position++;
            if (c >= Character.MIN_SURROGATE && c <= Character.MAX_SURROGATE) {
                throw new IllegalArgumentException(String.format("%s has an unpaired surrogate (\\u%04x) at character %d; "
                        + "a surrogate is half of a character and only counts in a pair", field, c, position));
            }
            if (Character.getType(c) == Character.CONTROL && c != '\t' && c != '\n' && c != '\r') {
                throw new IllegalArgumentException(String.format("%s has a control character (U+%04X) at character %d; the "
                        + "only control characters allowed are tab, line feed and carriage return", field, c, position));
            }
            i += Character.charCount(c);
        }
    }

    /** Whether {@code text} has a character that shows. */
    static boolean hasVisible(String text) {
        return text.codePoints().anyMatch(c -> !Character.isWhitespace(c) && !Character.isSpaceChar(c)
                && Character.getType(c) != Character.CONTROL && Character.getType(c) != Character.FORMAT);
    }
}
