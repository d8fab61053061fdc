package dev.qwenimage.engine.comfyui;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.qwenimage.engine.GenerationRequest;
import java.util.List;
import java.util.Set;

/**
 * A ComfyUI workflow in API format (node id to {@code {"class_type", "inputs"}}, links written
 * {@code ["node_id", output_index]}) for one request, with what the engine needs to read the run:
 * which nodes save the image and which nodes' progress is step progress.
 */
sealed interface Workflow permits QwenImageWorkflow, WorkflowFile {

    /** The API-format workflow for {@code request}; {@code negativePrompt} is already defaulted. */
    ObjectNode build(GenerationRequest request, String negativePrompt);

    /** Ids of the nodes whose saved images are the result, most preferred first. */
    List<String> imageNodes();

    /** Ids of the sampler nodes whose progress messages are the steps; empty means any node's. */
    Set<String> samplerNodes();

    /** For the banner: what this workflow runs. */
    String describe();
}
