package dev.qwenimage.engine.comfyui;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.qwenimage.engine.GenerationRequest;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A ComfyUI workflow in API format (node id to {@code {"class_type", "inputs"}}, links written
 * {@code ["node_id", output_index]}) for one request, with what the engine needs to read the run:
 * which nodes save the image and which nodes' progress is step progress.
 */
sealed interface Workflow permits QwenImageWorkflow, QwenImageEditWorkflow, WorkflowFile {

    /**
     * The API-format workflow for {@code request}; {@code negativePrompt} is already defaulted.
     * {@code inputImage} is the name the edit's input was uploaded as (what a LoadImage node
     * takes); an edit workflow needs it, a text-to-image one ignores it.
     */
    ObjectNode build(GenerationRequest request, String negativePrompt, Optional<String> inputImage);

    /** A text-to-image workflow for {@code request}. */
    default ObjectNode build(GenerationRequest request, String negativePrompt) {
        return build(request, negativePrompt, Optional.empty());
    }

    /** Ids of the nodes whose saved images are the result, most preferred first. */
    List<String> imageNodes();

    /** Ids of the sampler nodes whose progress messages are the steps; empty means any node's. */
    Set<String> samplerNodes();

    /** For the banner: what this workflow runs. */
    String describe();
}
