package dev.qwenimage.config;

import java.net.URI;
import java.util.regex.Pattern;

/**
 * Hides the credentials a configured URL may carry wherever it is shown: /healthz, the banner,
 * logs, failure reasons and error messages. User credentials ({@code http://user:pass@host})
 * become {@code http://…@host}, and the values of query parameters that look like secrets
 * ({@code password=}, {@code key=}, {@code token=}, {@code secret=}, {@code signature=} ...)
 * become {@code …}. The one place every such display goes through, so that no URL is shown raw.
 */
public final class Redaction {
    /** scheme://userinfo@ (the userinfo ends at the last '@' before the path, query or fragment). */
    private static final Pattern USER_INFO = Pattern.compile("(?i)\\b([a-z][a-z0-9+.\\-]*://)[^\\s/?#]*@");
    private static final Pattern SECRET_PARAMETER = Pattern.compile(
            "(?i)([?&;][^=&;#\\s]*(?:password|passwd|pwd|pass|secret|token|key|signature|sig|credential|auth)[^=&;#\\s]*=)[^&;#\\s]*");

    private Redaction() {
    }

    /** {@code text} (a message, a URL, a log line) with the credentials of every URL in it hidden. */
    public static String text(String text) {
        if (text == null || text.isEmpty()) {
            return text;
        }
        String t = USER_INFO.matcher(text).replaceAll("$1…@");
        return SECRET_PARAMETER.matcher(t).replaceAll("$1…");
    }

    /** The URL as it may be shown. */
    public static String url(URI url) {
        return text(url.toString());
    }
}
