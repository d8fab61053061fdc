package dev.qwenimage.engine.comfyui;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.qwenimage.config.ConfigException;
import dev.qwenimage.engine.GenerationRequest;
import dev.qwenimage.engine.http.EngineHttp;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A user's own workflow, saved from ComfyUI in API format, with placeholders in its string values
 * that each request fills: {@code {{prompt}}}, {@code {{negative_prompt}}}, {@code {{seed}}},
 * {@code {{steps}}}, {@code {{width}}}, {@code {{height}}}, and in an edit workflow
 * {@code {{image}}}: the name under which the edit's input was uploaded to ComfyUI's input folder
 * (the {@code image} of a LoadImage node). A value that is exactly one numeric placeholder becomes
 * a JSON number; inside a longer string a placeholder is replaced as text. The file is read and
 * checked once, at start-up.
 */
final class WorkflowFile implements Workflow {
    private static final Logger log = LoggerFactory.getLogger(WorkflowFile.class);
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{([A-Za-z_]+)}}");
    private static final Set<String> NUMERIC = Set.of("seed", "steps", "width", "height");
    private static final Set<String> TEXT = Set.of("prompt", "negative_prompt");
    private static final String IMAGE = "image";
    private static final Set<String> SAMPLERS = Set.of("KSampler", "KSamplerAdvanced", "SamplerCustom", "SamplerCustomAdvanced");

    private final Path path;
    private final ObjectNode template;
    private final List<String> imageNodes;
    private final Set<String> samplerNodes;
    private final boolean edit;

    private WorkflowFile(Path path, ObjectNode template, List<String> imageNodes, Set<String> samplerNodes, boolean edit) {
        this.path = path;
        this.template = template;
        this.imageNodes = imageNodes;
        this.samplerNodes = samplerNodes;
        this.edit = edit;
    }

    /** Reads and checks a text-to-image {@code file}; anything wrong is a {@link ConfigException} naming the file. */
    static WorkflowFile load(Path file, String where) {
        return load(file, where, false);
    }

    /** Reads and checks an edit workflow {@code file}, which must take the input image through {@code {{image}}}. */
    static WorkflowFile loadEdit(Path file, String where) {
        return load(file, where, true);
    }

    private static WorkflowFile load(Path file, String where, boolean edit) {
        String what = where + ": " + (edit ? "edit workflow" : "workflow") + " file " + file;
        if (!Files.isRegularFile(file)) {
            throw new ConfigException(what + " does not exist or is not a file");
        }
        JsonNode root;
        try {
            root = EngineHttp.json().readTree(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new ConfigException(what + " is not valid JSON: " + EngineHttp.abbreviate(String.valueOf(e.getMessage())));
        }
        if (root == null || !root.isObject() || root.isEmpty()) {
            throw new ConfigException(what + " must be a JSON object of nodes (ComfyUI's API format)");
        }
        if (root.has("nodes") && root.has("links")) {
            throw new ConfigException(what + " is in ComfyUI's UI format; save it in API format instead "
                    + "(Workflow > Export (API) in ComfyUI)");
        }
        List<String> saves = new ArrayList<>();
        List<String> previews = new ArrayList<>();
        Set<String> samplers = new LinkedHashSet<>();
        Set<String> placeholders = new TreeSet<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String id = e.getKey();
            JsonNode node = e.getValue();
            if (!node.isObject() || !node.path("class_type").isTextual() || !node.path("inputs").isObject()) {
                throw new ConfigException(what + ": node '" + id + "' needs a \"class_type\" and an \"inputs\" object "
                        + "(is this ComfyUI's API format?)");
            }
            String classType = node.get("class_type").asText();
            for (Iterator<Map.Entry<String, JsonNode>> in = node.get("inputs").fields(); in.hasNext(); ) {
                Map.Entry<String, JsonNode> input = in.next();
                JsonNode v = input.getValue();
                if (v.isArray() && v.size() == 2 && v.get(0).isTextual() && v.get(1).isIntegralNumber()
                        && !root.has(v.get(0).asText())) {
                    throw new ConfigException(what + ": input '" + input.getKey() + "' of node '" + id + "' (" + classType
                            + ") links to node '" + v.get(0).asText() + "', which is not in the file");
                }
                collectPlaceholders(v, placeholders);
            }
            if (classType.equals("SaveImage") || classType.matches("(?i).*save.?image.*|.*image.?save.*")) {
                saves.add(id);
            } else if (classType.matches("(?i).*preview.?image.*")) {
                previews.add(id);
            }
            if (SAMPLERS.contains(classType)) {
                samplers.add(id);
            }
        }
        if (saves.isEmpty() && previews.isEmpty()) {
            throw new ConfigException(what + " has no SaveImage node (nor another node that saves an image), so there "
                    + "would be no image to fetch");
        }
        for (String p : placeholders) {
            if (!NUMERIC.contains(p) && !TEXT.contains(p) && !(edit && p.equals(IMAGE))) {
                throw new ConfigException(what + ": unknown placeholder {{" + p + "}}; the known ones are {{prompt}}, "
                        + "{{negative_prompt}}, {{seed}}, {{steps}}, {{width}}, {{height}}"
                        + (edit ? ", {{image}}" : p.equals(IMAGE) ? " ({{image}} belongs in an edit_workflow= file)" : ""));
            }
        }
        if (!placeholders.contains("prompt")) {
            throw new ConfigException(what + " has no {{prompt}} placeholder, so every image would ignore its prompt; "
                    + "put \"{{prompt}}\" as the text of the positive " + (edit ? "text encoder" : "CLIPTextEncode"));
        }
        if (edit && !placeholders.contains(IMAGE)) {
            throw new ConfigException(what + " has no {{image}} placeholder, so ComfyUI would never see the picture to edit; "
                    + "put \"{{image}}\" as the image of its LoadImage node");
        }
        for (String p : edit ? List.of("seed") : List.of("seed", "width", "height")) {
            if (!placeholders.contains(p)) {
                log.warn("{} has no {} placeholder: every image gets the file's own {}", what, "{{" + p + "}}", p);
            }
        }
        List<String> images = new ArrayList<>(saves);
        images.addAll(previews);
        return new WorkflowFile(file, (ObjectNode) root, List.copyOf(images), Set.copyOf(samplers), edit);
    }

    @Override
    public ObjectNode build(GenerationRequest request, String negativePrompt, Optional<String> inputImage) {
        if (edit && inputImage.isEmpty()) {
            throw new IllegalArgumentException("an edit workflow needs the uploaded input image's name");
        }
        Map<String, JsonNode> values = new HashMap<>(Map.of(
                "prompt", JsonNodeFactory.instance.textNode(request.prompt()),
                "negative_prompt", JsonNodeFactory.instance.textNode(negativePrompt),
                "seed", QwenImageWorkflow.seed(request.seed()),
                "steps", JsonNodeFactory.instance.numberNode(request.steps()),
                "width", JsonNodeFactory.instance.numberNode(request.width()),
                "height", JsonNodeFactory.instance.numberNode(request.height())));
        if (edit) {
            values.put(IMAGE, JsonNodeFactory.instance.textNode(inputImage.get()));
        }
        ObjectNode w = template.deepCopy();
        for (JsonNode node : w) {
            fill((ObjectNode) node.get("inputs"), values);
        }
        return w;
    }

    @Override
    public List<String> imageNodes() {
        return imageNodes;
    }

    @Override
    public Set<String> samplerNodes() {
        return samplerNodes;
    }

    @Override
    public String describe() {
        return (edit ? "edit workflow file " : "workflow file ") + path + " (" + template.size() + " nodes)";
    }

    private static void collectPlaceholders(JsonNode v, Set<String> into) {
        if (v.isTextual()) {
            Matcher m = PLACEHOLDER.matcher(v.asText());
            while (m.find()) {
                into.add(m.group(1));
            }
        } else if (v.isContainerNode()) {
            v.forEach(child -> collectPlaceholders(child, into));
        }
    }

    private static void fill(ObjectNode container, Map<String, JsonNode> values) {
        for (Iterator<Map.Entry<String, JsonNode>> it = container.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode filled = filled(e.getValue(), values);
            if (filled != e.getValue()) {
                e.setValue(filled);
            }
        }
    }

    private static JsonNode filled(JsonNode v, Map<String, JsonNode> values) {
        if (v.isTextual()) {
            String text = v.asText();
            Matcher whole = PLACEHOLDER.matcher(text);
            if (whole.matches()) {
                return values.get(whole.group(1));
            }
            Matcher m = PLACEHOLDER.matcher(text);
            if (!m.find()) {
                return v;
            }
            m.reset();
            StringBuilder out = new StringBuilder();
            while (m.find()) {
                JsonNode value = values.get(m.group(1));
                m.appendReplacement(out, Matcher.quoteReplacement(value.asText()));
            }
            m.appendTail(out);
            return JsonNodeFactory.instance.textNode(out.toString());
        }
        if (v.isObject()) {
            fill((ObjectNode) v, values);
        } else if (v.isArray()) {
            ArrayNode a = (ArrayNode) v;
            for (int i = 0; i < a.size(); i++) {
                JsonNode f = filled(a.get(i), values);
                if (f != a.get(i)) {
                    a.set(i, f);
                }
            }
        }
        return v;
    }
}
