package dev.qwenimage.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.qwenimage.config.Durations;
import dev.qwenimage.config.ServerConfig;
import dev.qwenimage.config.Setting;
import dev.qwenimage.config.SettingNames;
import dev.qwenimage.support.Repository;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.ServerProcess;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The compose files and Kubernetes manifests under deploy/ cannot run on the build machines (no
 * Docker engine, no cluster), so they are checked here against the server they deploy: every file
 * parses; every {@code QWEN_IMAGE_*} name in them is a real setting and every literal value is one
 * the server accepts; ports, probes and paths are the server's (and answer on a real server);
 * grace periods outlast the drain; GPU workers ask for a GPU; the KEDA query names a metric the
 * server exports; and {@code kubectl kustomize} renders the base and every overlay.
 */
class DeploymentFilesTest {
    private static final Path ROOT = Repository.root();
    private static final Path DEPLOY = ROOT.resolve("deploy");
    private static final Path COMPOSE = DEPLOY.resolve("compose");
    private static final Path KUBERNETES = DEPLOY.resolve("kubernetes");
    private static final Pattern SETTING_NAME = Pattern.compile("QWEN_IMAGE_[A-Z0-9_]+");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int PORT = Integer.parseInt(Setting.PORT.defaultValue());
    private static final Duration DEFAULT_DRAIN = Durations.parse(Setting.DRAIN_TIMEOUT.defaultValue());

    /** What a real server (the default embedded one) answers on the paths the files name. */
    private static Map<String, Integer> served;
    private static String metrics;

    @BeforeAll
    static void aRealServer(@TempDir Path dir) {
        ServerProcess server = ServerProcess.start(dir.resolve("data"), Map.of());
        try {
            String url = server.awaitReady();
            served = new HashMap<>();
            for (String path : List.of("/readyz", "/healthz", "/metrics")) {
                served.put(path, Api.fetch(url + path).statusCode());
            }
            metrics = new String(Api.fetch(url + "/metrics").body(), StandardCharsets.UTF_8);
        } finally {
            server.kill();
        }
    }

    @Test
    void everyYamlFileUnderDeployParses() throws IOException {
        List<Path> files = files(DEPLOY, ".yml", ".yaml");
        assertThat(files).as("the compose files and manifests").isNotEmpty();
        for (Path f : files) {
            assertThatCode(() -> documents(Files.readString(f))).as(ROOT.relativize(f).toString()).doesNotThrowAnyException();
        }
        assertThat(files).extracting(f -> ROOT.relativize(f).toString().replace('\\', '/'))
                .contains("deploy/compose/gpu-box.yml", "deploy/compose/cluster.yml", "deploy/kubernetes/base/kustomization.yaml");
    }

    @Test
    void everyQwenImageNameInTheDeploymentFilesIsARealSetting() throws IOException {
        Set<String> names = new TreeSet<>();
        for (Path f : files(DEPLOY, "")) {
            Matcher m = SETTING_NAME.matcher(Files.readString(f));
            while (m.find()) {
                names.add(m.group());
            }
        }
        assertThat(names).as("names found").contains("QWEN_IMAGE_ROLE", "QWEN_IMAGE_ENGINES", "QWEN_IMAGE_DB_URL");
        assertThat(names).allSatisfy(n -> assertThat(SettingNames.isKnown(n)).as(n + " is read by qwen-image").isTrue());
    }

    @Test
    void composeNodesGetValuesTheServerAcceptsOnItsPortAndAGracePeriodLongerThanTheirDrain() throws IOException {
        Map<String, String> dotEnv = dotEnv(COMPOSE.resolve(".env.example"));
        assertThat(dotEnv).as(".env.example names the secrets cluster.yml asks for").containsKeys("QWEN_IMAGE_URL_SECRET", "QWEN_IMAGE_DB_PASSWORD");
        for (String file : List.of("gpu-box.yml", "cluster.yml")) {
            JsonNode compose = documents(Files.readString(COMPOSE.resolve(file))).getFirst();
            Map<String, JsonNode> nodes = qwenServices(compose);
            assertThat(nodes).as(file + ": services running qwen-image").isNotEmpty();
            for (var e : nodes.entrySet()) {
                String where = file + ": " + e.getKey();
                Map<String, String> env = substituted(composeEnv(e.getValue().get("environment")), dotEnv);
                assertAccepted(where, env);
                for (JsonNode port : e.getValue().path("ports")) {
                    assertThat(port.asText()).as(where + " publishes the server's port").endsWith(":" + PORT);
                }
                Duration drain = env.containsKey("QWEN_IMAGE_DRAIN_TIMEOUT") ? Durations.parse(env.get("QWEN_IMAGE_DRAIN_TIMEOUT")) : DEFAULT_DRAIN;
                assertThat(e.getValue().hasNonNull("stop_grace_period")).as(where + " sets stop_grace_period (docker stop waits 10 s)").isTrue();
                assertThat(Durations.parse(e.getValue().get("stop_grace_period").asText())).as(where + ": grace period vs the drain")
                        .isGreaterThan(drain);
            }
        }
        JsonNode gpuBox = documents(Files.readString(COMPOSE.resolve("gpu-box.yml"))).getFirst();
        assertThat(gpuBox.findValues("devices")).as("gpu-box.yml reserves an NVIDIA GPU")
                .anySatisfy(d -> assertThat(d.toString()).contains("nvidia").contains("gpu"));
        Map<String, JsonNode> cluster = qwenServices(documents(Files.readString(COMPOSE.resolve("cluster.yml"))).getFirst());
        assertThat(cluster.values().stream().map(s -> composeEnv(s.get("environment")).get("QWEN_IMAGE_ROLE")))
                .as("cluster.yml: 2 api nodes and 2 workers").containsExactlyInAnyOrder("api", "api", "worker", "worker");
    }

    @Test
    void kustomizeRendersTheBaseAndEveryOverlay() throws Exception {
        List<Path> targets = new ArrayList<>(List.of(KUBERNETES.resolve("base")));
        try (Stream<Path> overlays = Files.list(KUBERNETES.resolve("overlays"))) {
            overlays.filter(Files::isDirectory).sorted().forEach(targets::add);
        }
        assertThat(targets).hasSizeGreaterThan(1);
        if (!kubectlPresent()) {
            loud("kubectl is not installed: the manifests were parsed but not rendered (apt-get install kubectl, or see kubernetes.io)");
            return;
        }
        for (Path t : targets) {
            List<JsonNode> rendered = kustomize(t);
            assertThat(rendered).as(ROOT.relativize(t) + " renders resources").isNotEmpty();
            checkManifests(ROOT.relativize(t).toString(), rendered);
        }
    }

    /** The rules every rendered set of manifests keeps. */
    private static void checkManifests(String where, List<JsonNode> docs) {
        Map<String, String> configMaps = new HashMap<>();
        for (JsonNode d : docs) {
            // what envFrom hands the containers: the ConfigMap, and the Secret's placeholders (long enough to pass)
            if (d.path("kind").asText().equals("ConfigMap") || d.path("kind").asText().equals("Secret")) {
                d.path("data").fields().forEachRemaining(e -> configMaps.put(e.getKey(), d.path("kind").asText().equals("Secret")
                        ? new String(java.util.Base64.getDecoder().decode(e.getValue().asText()), StandardCharsets.UTF_8) : e.getValue().asText()));
                d.path("stringData").fields().forEachRemaining(e -> configMaps.put(e.getKey(), e.getValue().asText()));
            }
        }
        int gpuWorkers = 0;
        for (JsonNode d : docs) {
            String kind = d.path("kind").asText();
            String name = where + " " + kind + "/" + d.at("/metadata/name").asText();
            switch (kind) {
                case "Deployment" -> {
                    JsonNode pod = d.at("/spec/template/spec");
                    for (JsonNode c : pod.path("containers")) {
                        if (!c.path("image").asText().contains("qwen-image-server")) {
                            continue;
                        }
                        Map<String, String> env = new HashMap<>(configMaps);
                        for (JsonNode e : c.path("env")) {
                            if (e.has("value")) {
                                env.put(e.get("name").asText(), e.get("value").asText());
                            }
                        }
                        assertAccepted(name, env);
                        assertThat(c.path("ports")).as(name + " container port").anySatisfy(p -> {
                            assertThat(p.path("containerPort").asInt()).isEqualTo(PORT);
                            assertThat(p.path("name").asText()).isEqualTo("http");
                        });
                        assertProbe(name + " readiness", c.get("readinessProbe"), "/readyz");
                        assertProbe(name + " liveness", c.get("livenessProbe"), "/healthz");
                        Duration drain = env.containsKey("QWEN_IMAGE_DRAIN_TIMEOUT") ? Durations.parse(env.get("QWEN_IMAGE_DRAIN_TIMEOUT")) : DEFAULT_DRAIN;
                        assertThat(Duration.ofSeconds(pod.path("terminationGracePeriodSeconds").asLong(30)))
                                .as(name + ": terminationGracePeriodSeconds vs QWEN_IMAGE_DRAIN_TIMEOUT").isGreaterThan(drain);
                        assertThat(c.at("/resources/requests/memory").isMissingNode()).as(name + " requests memory").isFalse();
                        if ("worker".equals(env.get("QWEN_IMAGE_ROLE"))) {
                            assertThat(pod.toString()).as(name + ": a worker pod gets a GPU").contains("nvidia.com/gpu");
                            gpuWorkers++;
                        }
                    }
                }
                case "Service" -> assertThat(d.at("/spec/ports")).as(name).allSatisfy(p -> assertThat(p.path("targetPort").asText())
                        .isIn("http", Integer.toString(PORT)));
                case "ScaledObject" -> {
                    String query = d.findValues("query").stream().map(JsonNode::asText).findFirst().orElse("");
                    Matcher m = Pattern.compile("(qwen_image_[a-z_]+)\\{[^}]*state=\"queued\"").matcher(query);
                    assertThat(m.find()).as(name + ": the query reads the queued-tasks gauge: " + query).isTrue();
                    assertThat(metrics).as("/metrics of a real server exports " + m.group(1))
                            .containsPattern("(?m)^" + Pattern.quote(m.group(1)) + "\\{[^}]*state=\"queued\"");
                }
                default -> {
                }
            }
        }
        assertThat(gpuWorkers).as(where + ": a worker Deployment").isPositive();
    }

    private static void assertProbe(String what, JsonNode probe, String path) {
        assertThat(probe).as(what).isNotNull();
        assertThat(probe.at("/httpGet/path").asText()).as(what + " path").isEqualTo(path);
        assertThat(probe.at("/httpGet/port").asText()).as(what + " port").isIn("http", Integer.toString(PORT));
        assertThat(served.get(path)).as("a real server answers " + path).isEqualTo(200);
    }

    /** The literal settings of one node (not ${...} substitutions) make a configuration the server starts with. */
    private static void assertAccepted(String where, Map<String, String> env) {
        Map<String, String> literal = new LinkedHashMap<>();
        env.forEach((k, v) -> {
            if (Setting.byEnv(k) != null && v != null && !v.contains("${")) {
                literal.put(k, v);
            }
        });
        assertThatCode(() -> ServerConfig.of(literal)).as(where + ": settings " + literal.keySet()).doesNotThrowAnyException();
    }

    private static final Pattern SUBSTITUTION = Pattern.compile("\\$\\{([A-Za-z0-9_]+)(?::?[-?]([^}]*))?}");

    /** Compose's ${NAME}, ${NAME:-default} and ${NAME:?message} with the values of {@code dotEnv}, as `--env-file` gives them. */
    private static Map<String, String> substituted(Map<String, String> env, Map<String, String> dotEnv) {
        Map<String, String> out = new LinkedHashMap<>();
        env.forEach((k, v) -> {
            if (v == null) {
                out.put(k, null);
                return;
            }
            Matcher m = SUBSTITUTION.matcher(v);
            StringBuilder b = new StringBuilder();
            while (m.find()) {
                String value = dotEnv.get(m.group(1));
                if (value == null && m.group(0).contains(":-")) {
                    value = m.group(2);
                }
                m.appendReplacement(b, Matcher.quoteReplacement(value == null ? m.group(0) : value));
            }
            m.appendTail(b);
            out.put(k, b.toString());
        });
        return out;
    }

    /** NAME=value lines of an env file (comments and blank lines skipped). */
    private static Map<String, String> dotEnv(Path file) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : Files.readAllLines(file)) {
            String l = line.strip();
            int eq = l.indexOf('=');
            if (!l.isEmpty() && !l.startsWith("#") && eq > 0) {
                out.put(l.substring(0, eq), l.substring(eq + 1));
            }
        }
        return out;
    }

    /** Services that run this server: built from the repository's Dockerfile or using its image. */
    private static Map<String, JsonNode> qwenServices(JsonNode compose) {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        compose.path("services").fields().forEachRemaining(e -> {
            JsonNode s = e.getValue();
            String build = s.path("build").isTextual() ? s.path("build").asText() : s.at("/build/context").asText();
            if (s.path("image").asText().startsWith("qwen-image-server") || build.equals("../..")) {
                out.put(e.getKey(), s);
            }
        });
        return out;
    }

    /** A compose service's environment, either form (map or list of NAME=value). */
    private static Map<String, String> composeEnv(JsonNode environment) {
        Map<String, String> env = new LinkedHashMap<>();
        if (environment == null) {
            return env;
        }
        if (environment.isArray()) {
            for (JsonNode line : environment) {
                String s = line.asText();
                int eq = s.indexOf('=');
                env.put(eq < 0 ? s : s.substring(0, eq), eq < 0 ? null : s.substring(eq + 1));
            }
        } else {
            environment.fields().forEachRemaining(e -> env.put(e.getKey(), e.getValue().isNull() ? null : e.getValue().asText()));
        }
        return env;
    }

    /** Every document of a YAML text, anchors, aliases and merge keys ({@code <<: *common}) resolved as compose does. */
    private static List<JsonNode> documents(String yaml) {
        List<JsonNode> docs = new ArrayList<>();
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        for (Object d : new Yaml(new SafeConstructor(options)).loadAll(yaml)) {
            if (d != null) {
                docs.add(JSON.valueToTree(d));
            }
        }
        return docs;
    }

    private static List<JsonNode> kustomize(Path dir) throws Exception {
        Process p = new ProcessBuilder("kubectl", "kustomize", dir.toString()).redirectErrorStream(false).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("kubectl kustomize " + ROOT.relativize(dir) + ": " + err).isZero();
        return documents(new String(out, StandardCharsets.UTF_8));
    }

    private static boolean kubectlPresent() {
        try {
            Process p = new ProcessBuilder("kubectl", "version", "--client").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    private static void loud(String message) {
        PrintStream console = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
        console.println("\n" + "!".repeat(100) + "\n!!! " + message + "\n" + "!".repeat(100) + "\n");
    }

    private static List<Path> files(Path dir, String... suffixes) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            return all.filter(Files::isRegularFile)
                    .filter(f -> Stream.of(suffixes).anyMatch(s -> f.getFileName().toString().endsWith(s)))
                    .sorted().toList();
        }
    }
}
