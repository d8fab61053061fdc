package dev.qwenimage.config;

import java.util.Collection;
import java.util.Optional;

/**
 * The candidate a misspelt name probably meant: the closest by edit distance (insertions,
 * deletions, substitutions and swaps of two neighbours each count one), when it is close enough
 * to be a typo rather than another word.
 */
public final class Nearest {
    private Nearest() {
    }

    /** The nearest of {@code candidates} to {@code name} (ignoring case), or empty when none is a likely typo. */
    public static Optional<String> among(String name, Collection<String> candidates) {
        String n = name.toUpperCase(java.util.Locale.ROOT);
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String c : candidates) {
            int d = distance(n, c.toUpperCase(java.util.Locale.ROOT));
            if (d < bestDistance) {
                best = c;
                bestDistance = d;
            }
        }
        return best != null && bestDistance <= tolerance(name, best) ? Optional.of(best) : Optional.empty();
    }

    /** Up to a third of the distinctive part of the name may be wrong, and always two characters. */
    private static int tolerance(String name, String candidate) {
        String common = commonPrefix(name.toUpperCase(java.util.Locale.ROOT), candidate.toUpperCase(java.util.Locale.ROOT));
        int cut = common.lastIndexOf('_') + 1; // QWEN_IMAGE_ is shared by every setting: it is no evidence
        return Math.max(2, (Math.max(name.length(), candidate.length()) - cut) / 3);
    }

    private static String commonPrefix(String a, String b) {
        int i = 0;
        while (i < a.length() && i < b.length() && a.charAt(i) == b.charAt(i)) {
            i++;
        }
        return a.substring(0, i);
    }

    /** Optimal string alignment distance. */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
