package dev.qwenimage.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Every {@code QWEN_IMAGE_*} name something in this project reads: the service's settings
 * ({@link Setting#ALL}) and the few read by the launcher, the command line and the test suite. A
 * variable of the environment with the prefix but none of these names is a typo the service
 * would otherwise ignore in silence; {@link #unknownVariables} says so, with the name probably meant.
 */
public final class SettingNames {
    public static final String PREFIX = "QWEN_IMAGE_";

    /** Names a user sets that the launcher and the command line read (not the service), with what they mean. */
    public static final Map<String, String> OTHERS = orderedMap(
            "QWEN_IMAGE_JAVA_OPTS", "Read by the ./qwen-image launcher and the container image's entry point only: extra JVM options, e.g. -Xmx2g.",
            "QWEN_IMAGE_URL", "Read by qwen-image generate: the server's base URL (else http://localhost:$QWEN_IMAGE_PORT).",
            "QWEN_IMAGE_API_KEY", "Read by qwen-image generate: the API key to send (else the key in the data directory).",
            "QWEN_IMAGE_SERVER", "Read by qwen-image keys and usage: the server's base URL (else http://localhost:$QWEN_IMAGE_PORT).");
    /** Read by the test suite only: the PostgreSQL server its tests use. */
    static final String TEST_PG_URL = "QWEN_IMAGE_TEST_PG_URL";

    private static final List<String> KNOWN = known();

    private SettingNames() {
    }

    /** Whether something in this project reads {@code name} (a setting, or a name of {@link #OTHERS}). */
    public static boolean isKnown(String name) {
        return KNOWN.contains(name);
    }

    /** The known name {@code name} probably meant, or empty when none is close. */
    public static Optional<String> nearest(String name) {
        return Nearest.among(name, KNOWN);
    }

    /** " did you mean X?" for {@code name}, or a pointer to the list when no name is close. */
    public static String suggestion(String name) {
        return nearest(name).map(n -> "; did you mean " + n + "?").orElse(" (./qwen-image serve --help lists them)");
    }

    /** One warning for each {@code QWEN_IMAGE_*} variable of {@code env} that nothing reads, in name order. */
    public static List<String> unknownVariables(Map<String, String> env) {
        List<String> warnings = new ArrayList<>();
        for (String name : new TreeSet<>(env.keySet())) {
            if (name.startsWith(PREFIX) && !KNOWN.contains(name)) {
                warnings.add(name + " is not a setting of qwen-image and is ignored" + suggestion(name));
            }
        }
        return warnings;
    }

    /** Settings still read under an older name, by that name, with the setting that replaces them. */
    public static final Map<String, String> DEPRECATED = Map.of(Setting.WEBHOOK_ALLOW.env(), Setting.OUTBOUND_ALLOW.env());

    /** One warning for each deprecated setting {@code values} sets (to anything but blank), in name order. */
    public static List<String> deprecatedVariables(Map<String, String> values) {
        List<String> warnings = new ArrayList<>();
        for (String name : new TreeSet<>(values.keySet())) {
            String replacement = DEPRECATED.get(name);
            if (replacement != null && !values.get(name).isBlank()) {
                warnings.add(name + " is deprecated: it still works (its entries are added to " + replacement + "), but set "
                        + replacement + " instead");
            }
        }
        return warnings;
    }

    private static List<String> known() {
        List<String> names = new ArrayList<>(Setting.ALL.stream().map(Setting::env).toList());
        names.addAll(OTHERS.keySet());
        names.add(TEST_PG_URL);
        return List.copyOf(names);
    }

    private static Map<String, String> orderedMap(String... pairs) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put(pairs[i], pairs[i + 1]);
        }
        return java.util.Collections.unmodifiableMap(m);
    }
}
