package dev.qwenimage.task;

import java.util.Optional;

/**
 * The rule for the free-text fields, {@code prompt} and {@code negative_prompt}, on every door:
 * Unicode text without unpaired surrogates (which are not characters, and would be stored as
 * {@code ?}) and without control characters other than tab, line feed and carriage return.
 * A prompt must also show something: at least one character that is not white space, a control
 * or an invisible formatting character (such as U+200B, zero width space).
 */
public final class TextRules {
    private TextRules() {
    }

    /** What is wrong with {@code text} as the value of {@code field}, naming the position (1 = first character); empty when nothing. */
    static Optional<String> problem(String field, String text) {
        Optional<String> unpaired = unpairedSurrogate(field, text);
        if (unpaired.isPresent()) {
            return unpaired;
        }
        int position = 0;
        for (int i = 0; i < text.length(); ) {
            int c = text.codePointAt(i);
            position++;
            if (Character.getType(c) == Character.CONTROL && c != '\t' && c != '\n' && c != '\r') {
                return Optional.of(String.format("%s has a control character (U+%04X) at character %d; the only control "
                        + "characters allowed are tab, line feed and carriage return", field, c, position));
            }
            i += Character.charCount(c);
        }
        return Optional.empty();
    }

    /**
     * The unpaired surrogate in {@code text}, the value of {@code field}, if any: JSON's
     * {@code "\\ud800"} escape decodes to one, and it is not a character (stored, it becomes
     * {@code ?}). Every string a request carries is checked for them, whatever its field.
     */
    public static Optional<String> unpairedSurrogate(String field, String text) {
        int position = 0;
        for (int i = 0; i < text.length(); ) {
            int c = text.codePointAt(i);
            position++;
            if (c >= Character.MIN_SURROGATE && c <= Character.MAX_SURROGATE) {
                return Optional.of(String.format("%s has an unpaired surrogate (\\u%04x) at character %d; a surrogate is half "
                        + "of a character and only counts in a pair: send valid Unicode", field, c, position));
            }
            i += Character.charCount(c);
        }
        return Optional.empty();
    }

    /** Whether {@code text} has a character that shows. */
    static boolean hasVisible(String text) {
        return text.codePoints().anyMatch(c -> !Character.isWhitespace(c) && !Character.isSpaceChar(c)
                && Character.getType(c) != Character.CONTROL && Character.getType(c) != Character.FORMAT);
    }

    /** Length in Unicode code points. */
    static int length(String text) {
        return text.codePointCount(0, text.length());
    }
}
