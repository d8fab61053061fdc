package dev.qwenimage.bench;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;

/**
 * The fallback load generator, used when wrk is not installed. Java's HttpClient costs more CPU
 * per request than wrk, so on a small machine it caps the rates it can measure.
 *
 * <p>A closed-loop HTTP load generator: {@code concurrency} virtual threads each send a request, wait
 * for the answer and send the next, for a warm-up and then a measured period. Every request's
 * latency is kept, so percentiles are exact.
 */
final class LoadGenerator {

    private static double percentileMillis(long[] sortedNanos, double p) {
        if (sortedNanos.length == 0) {
            return Double.NaN;
        }
        int i = (int) Math.min(sortedNanos.length - 1, Math.ceil(p / 100.0 * sortedNanos.length) - 1);
        return sortedNanos[Math.max(0, i)] / 1e6;
    }

    private final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    /**
     * Runs {@code request(i)} in a closed loop; a response is an error unless its status is
     * {@code expectedStatus}.
     */
    LoadResult run(String name, int concurrency, Duration warmup, Duration measure, int expectedStatus,
               IntFunction<HttpRequest> request) throws InterruptedException {
        AtomicLong sequence = new AtomicLong();
        long start = System.nanoTime();
        long measureFrom = start + warmup.toNanos();
        long end = measureFrom + measure.toNanos();
        List<long[]> perThread = new ArrayList<>();
        List<long[]> counts = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < concurrency; t++) {
            long[] lat = new long[2_000_000 / concurrency];
            long[] count = new long[2]; // [0] = measured latencies kept, [1] = errors
            perThread.add(lat);
            counts.add(count);
            threads.add(Thread.ofVirtual().start(() -> {
                while (true) {
                    long t0 = System.nanoTime();
                    if (t0 >= end) {
                        return;
                    }
                    int status;
                    try {
                        status = client.send(request.apply((int) sequence.getAndIncrement()),
                                HttpResponse.BodyHandlers.discarding()).statusCode();
                    } catch (Exception e) {
                        status = -1;
                    }
                    long t1 = System.nanoTime();
                    if (t0 >= measureFrom && t1 <= end) {
                        if (status != expectedStatus) {
                            count[1]++;
                        } else if (count[0] < lat.length) {
                            lat[(int) count[0]++] = t1 - t0;
                        }
                    }
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        int total = 0;
        long errors = 0;
        for (long[] c : counts) {
            total += (int) c[0];
            errors += c[1];
        }
        long[] all = new long[total];
        int k = 0;
        for (int t = 0; t < perThread.size(); t++) {
            int n = (int) counts.get(t)[0];
            System.arraycopy(perThread.get(t), 0, all, k, n);
            k += n;
        }
        Arrays.sort(all);
        return new LoadResult(name, total / (measure.toNanos() / 1e9), percentileMillis(all, 50),
                percentileMillis(all, 99), errors);
    }
}
