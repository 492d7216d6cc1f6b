package driver;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendCallback;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;

/**
 * {@code bench-produce} and {@code bench-consume}: the Java side of the producer and consumer
 * benchmarks. Each prints one {@code bench} event. CPU is the JVM's own process CPU time
 * ({@code OperatingSystemMXBean.getProcessCpuTime}) over the measured window only, so JVM
 * start-up, class loading before the window and warm-up are excluded.
 *
 * <p>Warm-up: bench-produce first sends for --warmup-ms (default 3000) with the same settings
 * and discards those figures; bench-consume discards the first --warmup-count messages (default
 * 1000) and measures from there to --count.
 */
final class Bench {
    private Bench() {}

    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** Latencies in nanoseconds, appended by many threads. */
    private static final class Latencies {
        private long[] values = new long[1 << 16];
        private int size;

        synchronized void add(long nanos) {
            if (size == values.length) values = Arrays.copyOf(values, size * 2);
            values[size++] = nanos;
        }

        synchronized void clear() {
            size = 0;
        }

        synchronized double percentileMicros(double p) {
            if (size == 0) return Double.NaN;
            long[] sorted = Arrays.copyOf(values, size);
            Arrays.sort(sorted);
            return sorted[Math.min(size - 1, (int) Math.floor(p / 100 * size))] / 1000.0;
        }
    }

    private static Json result(String kind, long messages, long elapsedNanos, long cpu, Latencies latencies) {
        double seconds = elapsedNanos / 1e9;
        return Json.event("bench").put("kind", kind).put("messages", messages)
            .put("elapsedMs", elapsedNanos / 1e6).put("perSecond", messages / seconds)
            .put("p50Us", latencies.percentileMicros(50)).put("p99Us", latencies.percentileMicros(99))
            .put("cpuMs", cpu / 1e6).put("cpuUsPerMessage", messages == 0 ? Double.NaN : cpu / 1e3 / messages);
    }

    static int produce(Args args) throws Exception {
        String topic = args.required("topic");
        int bodySize = args.intValue("body-size", 128);
        byte[] body = Messages.generatedBody(0, bodySize, args.choice("body-pattern", "TEXT", "TEXT", "RANDOM").equals("RANDOM"));
        int inFlight = Math.max(1, args.intValue("in-flight", 1));
        boolean async = args.choice("mode", "SYNC", "SYNC", "ASYNC").equals("ASYNC");
        long count = args.longValue("count", 0);
        long durationMs = args.longValue("duration-ms", count > 0 ? 0 : 10_000);
        long warmupMs = args.longValue("warmup-ms", 3000);
        DefaultMQProducer producer = new DefaultMQProducer(args.string("group", "driver_bench_" + System.nanoTime()));
        Producers.configure(producer, args);
        args.finish();
        Producers.start(producer);
        try {
            Latencies latencies = new Latencies();
            AtomicLong failed = new AtomicLong();
            long warmed = phase(producer, topic, body, inFlight, async, 0, warmupMs, latencies, failed);
            latencies.clear();
            long warmupFailed = failed.getAndSet(0);
            long cpu0 = cpuNanos();
            long t0 = System.nanoTime();
            long sent = phase(producer, topic, body, inFlight, async, count, durationMs, latencies, failed);
            long elapsed = System.nanoTime() - t0;
            long cpu = cpuNanos() - cpu0;
            Out.emit(result("produce", sent, elapsed, cpu, latencies).put("failed", failed.get())
                .put("warmupMessages", warmed).put("warmupFailed", warmupFailed).put("inFlight", inFlight).put("bodySize", bodySize).put("mode", async ? "ASYNC" : "SYNC"));
            return failed.get() == 0 ? Errors.OK : Errors.OPERATION_FAILED;
        } finally {
            producer.shutdown();
        }
    }

    /** Sends until `count` sends started (when > 0) or `durationMs` passed; returns the successful sends. */
    private static long phase(DefaultMQProducer producer, String topic, byte[] body, int inFlight, boolean async,
                              long count, long durationMs, Latencies latencies, AtomicLong failed) throws Exception {
        if (count <= 0 && durationMs <= 0) return 0;
        long end = System.nanoTime() + durationMs * 1_000_000L;
        AtomicLong started = new AtomicLong();
        AtomicLong ok = new AtomicLong();
        java.util.function.BooleanSupplier more = () -> count > 0 ? started.getAndIncrement() < count : System.nanoTime() < end;
        if (async) {
            Semaphore permits = new Semaphore(inFlight);
            while (more.getAsBoolean()) {
                permits.acquire();
                long begin = System.nanoTime();
                producer.send(new Message(topic, body), new SendCallback() {
                    @Override
                    public void onSuccess(SendResult sendResult) {
                        latencies.add(System.nanoTime() - begin);
                        ok.incrementAndGet();
                        permits.release();
                    }

                    @Override
                    public void onException(Throwable e) {
                        failed.incrementAndGet();
                        permits.release();
                    }
                });
            }
            permits.acquire(inFlight);
            return ok.get();
        }
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < inFlight; t++) {
            Thread thread = new Thread(() -> {
                while (more.getAsBoolean()) {
                    long begin = System.nanoTime();
                    try {
                        producer.send(new Message(topic, body));
                        latencies.add(System.nanoTime() - begin);
                        ok.incrementAndGet();
                    } catch (Exception e) {
                        failed.incrementAndGet();
                    }
                }
            }, "bench-send-" + t);
            thread.start();
            threads.add(thread);
        }
        for (Thread thread : threads) thread.join();
        return ok.get();
    }

    static int consume(Args args) throws Exception {
        long count = args.longValue("count", 10_000);
        long warmup = args.longValue("warmup-count", Math.min(1000, count / 10));
        long timeoutMs = args.longValue("timeout-ms", 300_000);
        DefaultMQPushConsumer consumer = new DefaultMQPushConsumer(args.string("group", "driver_bench_" + System.nanoTime()));
        Clients.configure(consumer, args);
        consumer.subscribe(args.required("topic"), args.string("expression", "*"));
        consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        int threads = args.intValue("consume-threads", 20);
        consumer.setConsumeThreadMin(threads);
        consumer.setConsumeThreadMax(threads);
        consumer.setPullBatchSize(args.intValue("pull-batch-size", 32));
        consumer.setConsumeMessageBatchMaxSize(args.intValue("consume-batch-size", 1));
        args.finish();
        Control control = Control.start();
        Latencies latencies = new Latencies();
        AtomicLong received = new AtomicLong();
        long[] window = new long[2];
        consumer.registerMessageListener((MessageListenerConcurrently) (msgs, context) -> {
            long now = System.currentTimeMillis();
            for (MessageExt msg : msgs) {
                long n = received.incrementAndGet();
                if (n == warmup + 1) {
                    synchronized (window) {
                        window[0] = System.nanoTime();
                        window[1] = cpuNanos();
                    }
                }
                if (n > warmup) latencies.add((now - msg.getStoreTimestamp()) * 1_000_000L);
                if (n == count) control.stop("count");
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        try {
            consumer.start();
        } catch (Exception e) {
            throw new Errors.StartFailed("the push consumer could not start: " + e.getMessage(), e);
        }
        try {
            boolean done = control.await(timeoutMs) && received.get() >= count;
            long elapsed;
            long cpu;
            synchronized (window) {
                elapsed = System.nanoTime() - window[0];
                cpu = cpuNanos() - window[1];
            }
            long measured = Math.max(0, Math.min(received.get(), count) - warmup);
            Out.emit(result("consume", measured, elapsed, cpu, latencies).put("warmupMessages", warmup)
                .put("received", received.get()).put("completed", done));
            return done ? Errors.OK : Errors.TIMEOUT;
        } finally {
            consumer.shutdown();
        }
    }
}
