package driver;

import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.compression.CompressionType;

/** The producer settings shared by {@code produce} and {@code bench-produce}. */
final class Producers {
    private Producers() {}

    /**
     * Applies the client flags ({@link Clients}) and the producer's: --send-timeout-ms, --retry-times,
     * --compress-type (ZLIB, LZ4, ZSTD: what Java 5.x reads from the system property
     * {@code rocketmq.message.compressType}), --compress-over (Java's
     * {@code compressMsgBodyOverHowmuch}, default 4096), --compress-level (default 5),
     * --max-message-size, --vip-channel.
     */
    static void configure(DefaultMQProducer producer, Args args) {
        Clients.configure(producer, args);
        producer.setSendMsgTimeout(args.intValue("send-timeout-ms", 3000));
        int retries = args.intValue("retry-times", 2);
        producer.setRetryTimesWhenSendFailed(retries);
        producer.setRetryTimesWhenSendAsyncFailed(retries);
        String compressType = args.choice("compress-type", null, "ZLIB", "LZ4", "ZSTD");
        if (compressType != null) producer.setCompressType(CompressionType.of(compressType));
        producer.setCompressMsgBodyOverHowmuch(args.intValue("compress-over", 4096));
        producer.setCompressLevel(args.intValue("compress-level", 5));
        producer.setMaxMessageSize(args.intValue("max-message-size", 4 * 1024 * 1024));
        producer.setVipChannelEnabled(args.flag("vip-channel"));
    }

    static void start(DefaultMQProducer producer) {
        try {
            producer.start();
        } catch (Exception e) {
            throw new Errors.StartFailed("the producer could not start: " + e.getMessage(), e);
        }
    }
}
