package dev.qwenimage.api;

import dev.qwenimage.edit.ImageRejected;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import org.eclipse.jetty.http.MultiPart;
import org.eclipse.jetty.http.MultiPartFormData;
import org.eclipse.jetty.io.Content;

/**
 * Reads the {@code multipart/form-data} body of {@code POST /v1/images/edits} (OpenAI's Images
 * API): one picture as the part {@code image} (or {@code image[]}, as OpenAI's SDKs name a list),
 * the other fields as text parts. The body is read with the edit's own limit
 * ({@code QWEN_IMAGE_EDIT_MAX_BODY}) into memory and parsed there by this route's own parser, so
 * the server's 64 KiB limit on every other body stays as it is and no part touches the disk.
 */
final class EditForms {
    /** Parts beyond OpenAI's dozen fields are a client's mistake, or an attack on the parser. */
    private static final int MAX_PARTS = 64;
    /** The text fields' limit: a prompt of a few thousand characters and room to spare. */
    private static final int MAX_TEXT_BYTES = 64 * 1024;

    private final RequestBodies bodies;
    private final long maxBodyBytes;

    /** The fields of an edit form (each text part once, as sent) and the picture's bytes as uploaded. */
    record EditForm(Map<String, String> fields, byte[] image) {
        Optional<String> field(String name) {
            return Optional.ofNullable(fields.get(name));
        }
    }

    EditForms(RequestBodies bodies, long maxBodyBytes) {
        this.bodies = bodies;
        this.maxBodyBytes = maxBodyBytes;
    }

    EditForm read(Context ctx) {
        String boundary = boundary(ctx.header("Content-Type"));
        byte[] body = bodies.readLimited(ctx, maxBodyBytes);
        MultiPartFormData.Parser parser = new MultiPartFormData.Parser(boundary);
        parser.setMaxParts(MAX_PARTS);
        parser.setMaxMemoryFileSize(-1); // in memory: the body already is
        parser.setUseFilesForPartsWithoutFileName(false);
        MultiPartFormData.Parts parts;
        try {
            parts = parser.parse(Content.Source.from(ByteBuffer.wrap(body))).get();
        } catch (ExecutionException e) {
            throw new ApiError(400, "INVALID_MULTIPART", "the request body is not valid multipart/form-data ("
                    + (e.getCause() == null || e.getCause().getMessage() == null ? "malformed" : e.getCause().getMessage())
                    + "); send the picture as a file part named image and the prompt as a text part named prompt");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading a form", e);
        }
        try (parts) {
            return form(parts);
        }
    }

    private static EditForm form(MultiPartFormData.Parts parts) {
        if (!parts.getAll("mask").isEmpty()) {
            throw new ApiError(400, "MASK_NOT_SUPPORTED", "mask is not supported: Qwen-Image-Edit takes no mask, it edits "
                    + "the picture where the prompt says; leave the mask out and describe the change in the prompt, e.g. "
                    + "\"replace the sky with a purple sunset\"", Map.of("field", "mask"), Map.of());
        }
        List<MultiPart.Part> images = new java.util.ArrayList<>(parts.getAll("image"));
        images.addAll(parts.getAll("image[]"));
        if (images.isEmpty()) {
            throw new ImageRejected(ImageRejected.INVALID_IMAGE, "image is required: send the picture to edit as a file "
                    + "part named image, e.g. curl -F image=@photo.png -F prompt=\"make the sky purple\"");
        }
        if (images.size() > 1) {
            throw new ImageRejected(ImageRejected.INVALID_IMAGE, "this server edits one picture per request; the form has "
                    + images.size() + " image parts: send one");
        }
        Map<String, String> fields = new LinkedHashMap<>();
        for (MultiPart.Part part : parts) {
            String name = part.getName();
            if (name == null || name.equals("image") || name.equals("image[]")) {
                continue;
            }
            if (fields.containsKey(name)) {
                throw new ApiError(400, "INVALID_MULTIPART", "the form names the field " + quoted(name)
                        + " twice; send each field once", Map.of("field", name), Map.of());
            }
            if (part.getLength() > MAX_TEXT_BYTES) {
                throw new ApiError(400, "INVALID_" + name.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]+", "_"),
                        quoted(name) + " is larger than " + MAX_TEXT_BYTES / 1024 + " KiB", Map.of("field", name), Map.of());
            }
            fields.put(name, text(part));
        }
        byte[] image = bytes(images.getFirst());
        if (image.length == 0) {
            throw new ImageRejected(ImageRejected.INVALID_IMAGE, "the image part is empty; send the picture's file as it is");
        }
        return new EditForm(Map.copyOf(fields), image);
    }

    /** The boundary of a {@code multipart/form-data} body; 415 for any other media type. */
    private static String boundary(String contentType) {
        String mediaType = contentType == null ? "" : contentType.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
        if (!mediaType.equals("multipart/form-data")) {
            throw new ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "an edit on this endpoint is a form, as OpenAI's Images API "
                    + "takes it: send Content-Type: multipart/form-data with the picture as a file part named image (got "
                    + (contentType == null || contentType.isBlank() ? "no Content-Type" : abbreviate(contentType.strip()))
                    + "); JSON edits go to POST /v3/async/qwen-image-edit");
        }
        String boundary = MultiPart.extractBoundary(contentType);
        if (boundary == null || boundary.isEmpty()) {
            throw new ApiError(400, "INVALID_MULTIPART", "the Content-Type multipart/form-data names no boundary, e.g. "
                    + "multipart/form-data; boundary=----x (an HTTP client that builds the form sets it)");
        }
        return boundary;
    }

    private static String text(MultiPart.Part part) {
        byte[] bytes = bytes(part);
        var decoder = StandardCharsets.UTF_8.newDecoder();
        try {
            return decoder.decode(ByteBuffer.wrap(bytes)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new ApiError(400, "INVALID_MULTIPART", "the form field " + quoted(part.getName()) + " is not UTF-8 text",
                    Map.of("field", part.getName()), Map.of());
        }
    }

    private static byte[] bytes(MultiPart.Part part) {
        try (InputStream in = Content.Source.asInputStream(part.createContentSource())) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new ApiError(400, "INVALID_MULTIPART", "the form's part " + quoted(part.getName()) + " could not be read");
        }
    }

    private static String quoted(String s) {
        return "\"" + abbreviate(s) + "\"";
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "…";
    }
}
