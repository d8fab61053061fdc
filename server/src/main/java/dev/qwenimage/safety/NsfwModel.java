package dev.qwenimage.safety;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.stream.IntStream;

/**
 * The nsfwjs NSFW image classifier (its default model, MobileNetV2 at 224x224, from the npm
 * package nsfwjs 4.4.0, MIT) in plain Java: no native code, no download, the model read from
 * the classpath. It gives the probabilities nsfwjs gives for the same pixels (the parity test
 * holds every class of every fixture to 1e-3 of nsfwjs on TF.js's CPU backend; the largest
 * difference is about 1e-6). The same file can still give slightly different pixels: JPEG
 * decoders disagree by a few levels (ImageIO's libjpeg and jpeg-js, what nsfwjs users run in
 * Node), which moves the probabilities by about 1e-3; PNG decodes to the same bytes everywhere.
 *
 * <p>Load it once and share it: an instance is immutable and thread-safe. The first calls are
 * slower (the first about 0.7 s, then tens of ms) while the JIT compiles the kernels; a service
 * that wants its first real answer fast classifies a blank image at start-up. Each call runs on the
 * calling thread with buffers taken from a small pool (about 18 MB each, reused, one per thread
 * classifying at the same time), so classifying allocates almost nothing.
 *
 * <pre>{@code
 * NsfwModel model = NsfwModel.loadDefault();
 * NsfwScores scores = model.classify(image);
 * if (scores.isNsfw()) { ... }   // porn + hentai + sexy >= 0.5, see NsfwScores
 * }</pre>
 */
public final class NsfwModel {
    /** The bundled model, extracted from nsfwjs 4.4.0 by tools/nsfw/extract-model.sh. */
    static final String DEFAULT_RESOURCE = "/nsfw/mobilenet_v2/model.json";

    private static final Object DEFAULT_LOCK = new Object();
    private static NsfwModel defaultModel;

    private final String source;
    private final Network network;
    private final ArrayBlockingQueue<Network.Workspace> pool;

    private NsfwModel(String source, Network network) {
        this.source = source;
        this.network = network;
        this.pool = new ArrayBlockingQueue<>(Math.max(2, Runtime.getRuntime().availableProcessors()));
        if (network.outputSize != NsfwClass.values().length) {
            throw new NsfwModelException(source + ": the model has " + network.outputSize + " outputs; the NSFW classes are "
                    + NsfwClass.values().length);
        }
        if (network.input.c() != 3) {
            throw new NsfwModelException(source + ": the model's input has " + network.input.c() + " channels, not 3 (RGB)");
        }
    }

    /**
     * The bundled nsfwjs MobileNetV2 model, loaded on the first call (well under a second) and shared by
     * every later call.
     *
     * @throws NsfwModelException if the bundled files are missing or damaged
     */
    public static NsfwModel loadDefault() {
        synchronized (DEFAULT_LOCK) {
            if (defaultModel == null) {
                defaultModel = fromClasspath(DEFAULT_RESOURCE);
            }
            return defaultModel;
        }
    }

    /**
     * A TF.js layers model from files: {@code modelJson} and the weight files its manifest names,
     * beside it. The model must classify into the five nsfwjs classes, in nsfwjs's order.
     *
     * @throws NsfwModelException if a file is missing, damaged, or describes layers this
     *     classifier does not implement
     */
    public static NsfwModel load(Path modelJson) {
        String source = modelJson.toString();
        byte[] json;
        try {
            json = Files.readAllBytes(modelJson);
        } catch (NoSuchFileException e) {
            throw new NsfwModelException(source + " does not exist", e);
        } catch (IOException e) {
            throw new NsfwModelException("cannot read " + source + ": " + e.getMessage(), e);
        }
        Path dir = modelJson.toAbsolutePath().getParent();
        TfjsLayersModel model = TfjsLayersModel.read(source, json, path -> {
            try {
                return Files.readAllBytes(dir.resolve(path));
            } catch (NoSuchFileException e) {
                throw new IOException("the file does not exist", e);
            }
        });
        return new NsfwModel(source, NetworkCompiler.compile(model));
    }

    static NsfwModel fromClasspath(String resource) {
        String dir = resource.substring(0, resource.lastIndexOf('/') + 1);
        TfjsLayersModel model = TfjsLayersModel.read("classpath:" + resource, resourceBytes(resource),
                path -> resourceBytes(dir + path));
        return new NsfwModel("classpath:" + resource, NetworkCompiler.compile(model));
    }

    private static byte[] resourceBytes(String resource) {
        try (InputStream in = NsfwModel.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new NsfwModelException("classpath resource " + resource + " is missing");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read classpath resource " + resource, e);
        }
    }

    /** Classifies one image on the calling thread. */
    public NsfwScores classify(BufferedImage image) {
        return NsfwScores.of(infer(image));
    }

    /**
     * Classifies several images at once, in parallel over the images on the common fork-join pool
     * (the caller's thread takes part). The answers come in the order of {@code images}.
     */
    public List<NsfwScores> classifyAll(List<? extends BufferedImage> images) {
        List<? extends BufferedImage> all = List.copyOf(images);
        return IntStream.range(0, all.size()).parallel().mapToObj(i -> classify(all.get(i))).toList();
    }

    /** The side of the square the model looks at (224): larger images are scaled down to it, smaller ones up. */
    public int inputSize() {
        return network.input.h();
    }

    @Override
    public String toString() {
        return "NsfwModel[" + source + ", input " + network.input + ", " + network.ops.size() + " fused operations]";
    }

    /** The model's output row, in {@link NsfwClass} order. */
    float[] infer(BufferedImage image) {
        Objects.requireNonNull(image, "image");
        Network.Workspace ws = pool.poll();
        if (ws == null) {
            ws = new Network.Workspace(network);
        }
        try {
            ImageInput.write(image, network.input.h(), network.input.w(), ws.input(network), ws.resize);
            return Arrays.copyOf(network.run(ws), network.outputSize);
        } finally {
            pool.offer(ws);
        }
    }

    Network network() {
        return network;
    }
}
