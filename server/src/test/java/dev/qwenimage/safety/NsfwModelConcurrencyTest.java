package dev.qwenimage.safety;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** One model serves many threads: concurrent calls give exactly what one thread gives. */
class NsfwModelConcurrencyTest {
    @Test
    void concurrentClassificationGivesIdenticalResults() throws Exception {
        NsfwModel model = NsfwModel.loadDefault();
        List<BufferedImage> images = NsfwFixtures.all().stream().limit(12).map(NsfwFixtures.Fixture::image).toList();
        List<NsfwScores> sequential = images.stream().map(model::classify).toList();

        int threads = 6;
        CountDownLatch start = new CountDownLatch(1);
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Future<List<NsfwScores>>> runs = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                long seed = t;
                runs.add(pool.submit(() -> {
                    List<Integer> order = new ArrayList<>();
                    for (int i = 0; i < images.size(); i++) {
                        order.add(i);
                    }
                    Collections.shuffle(order, new Random(seed)); // every thread in its own order
                    NsfwScores[] got = new NsfwScores[images.size()];
                    start.await();
                    for (int i : order) {
                        got[i] = model.classify(images.get(i));
                    }
                    return List.of(got);
                }));
            }
            start.countDown();
            for (Future<List<NsfwScores>> run : runs) {
                assertThat(run.get()).containsExactlyElementsOf(sequential); // records: exact equality of every double
            }
        }
    }

    @Test
    void classifyAllAnswersInTheOrderOfItsInput() {
        NsfwModel model = NsfwModel.loadDefault();
        List<BufferedImage> images = NsfwFixtures.all().stream().skip(12).limit(8).map(NsfwFixtures.Fixture::image).toList();
        assertThat(model.classifyAll(images)).containsExactlyElementsOf(images.stream().map(model::classify).toList());
    }
}
