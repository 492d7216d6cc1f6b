package driver;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.rocketmq.client.consumer.AllocateMessageQueueStrategy;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.ConsumeOrderlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.consumer.listener.MessageListenerOrderly;
import org.apache.rocketmq.client.consumer.rebalance.AllocateMessageQueueAveragely;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.remoting.protocol.heartbeat.MessageModel;

/**
 * {@code push-consume}: a {@code DefaultMQPushConsumer} in --group, subscribed to --topic with
 * --expression, until --count messages were consumed successfully, --idle-ms passed without a
 * message, {@code stop} arrives on stdin, or --timeout-ms passes.
 *
 * <p>Events: {@code started} (clientId); {@code rebalance} whenever the queues allocated to this
 * client for a topic change (Java's averaging strategy, wrapped); one {@code message} per
 * delivery with every field and the {@code result} the listener returned; {@code summary} after
 * the consumer shut down (offsets persisted, client unregistered), so every event of a handled
 * message comes before it. Exit 0, or 5 when --count was given and not reached in time.
 */
final class PushConsume {
    private final AtomicLong consumed = new AtomicLong();
    private final AtomicLong deliveries = new AtomicLong();
    private final AtomicLong failedDeliveries = new AtomicLong();
    private volatile long lastMessageAt = System.currentTimeMillis();
    private final int failFirst;
    private final long consumeDelayMs;
    private final boolean withBody;
    private final long count;
    private final Control control;

    private PushConsume(Args args, Control control) {
        failFirst = args.intValue("fail-first", 0);
        consumeDelayMs = args.longValue("consume-delay-ms", 0);
        withBody = !args.flag("no-body");
        count = args.longValue("count", 0);
        this.control = control;
    }

    static int run(Args args) throws Exception {
        DefaultMQPushConsumer consumer = new DefaultMQPushConsumer(args.required("group"));
        Clients.configure(consumer, args);
        consumer.subscribe(args.required("topic"), args.string("expression", "*"));
        consumer.setMessageModel(MessageModel.valueOf(args.choice("model", "CLUSTERING", "CLUSTERING", "BROADCASTING")));
        configureStart(consumer, args.string("from", "LAST"));
        int maxReconsume = args.intValue("max-reconsume-times", -1);
        if (maxReconsume >= 0) consumer.setMaxReconsumeTimes(maxReconsume);
        consumer.setPullBatchSize(args.intValue("pull-batch-size", 32));
        consumer.setConsumeMessageBatchMaxSize(args.intValue("consume-batch-size", 1));
        int threads = args.intValue("consume-threads", 20);
        consumer.setConsumeThreadMin(threads);
        consumer.setConsumeThreadMax(threads);
        consumer.setSuspendCurrentQueueTimeMillis(args.longValue("suspend-ms", 1000));
        consumer.setAwaitTerminationMillisWhenShutdown(5000);
        consumer.setAllocateMessageQueueStrategy(new Reporting());
        boolean orderly = args.flag("orderly");
        long timeoutMs = args.longValue("timeout-ms", 120_000);
        long idleMs = args.longValue("idle-ms", 0);
        Control control = Control.start();
        PushConsume run = new PushConsume(args, control);
        args.finish();
        if (orderly) consumer.registerMessageListener(run.orderly());
        else consumer.registerMessageListener(run.concurrently());
        try {
            consumer.start();
        } catch (Exception e) {
            throw new Errors.StartFailed("the push consumer could not start: " + e.getMessage(), e);
        }
        long begin = System.currentTimeMillis();
        Out.emit(Json.event("started").put("clientId", consumer.getDefaultMQPushConsumerImpl().getmQClientFactory().getClientId())
            .put("group", consumer.getConsumerGroup()));
        String reason = run.waitForEnd(begin + timeoutMs, idleMs);
        consumer.shutdown();
        Out.emit(Json.event("summary").put("consumed", run.consumed.get()).put("deliveries", run.deliveries.get())
            .put("failedDeliveries", run.failedDeliveries.get()).put("reason", reason)
            .put("elapsedMs", System.currentTimeMillis() - begin));
        return reason.equals("timeout") && run.count > 0 ? Errors.TIMEOUT : Errors.OK;
    }

    private static void configureStart(DefaultMQPushConsumer consumer, String from) {
        String upper = from.toUpperCase();
        if (upper.equals("FIRST")) consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        else if (upper.equals("LAST")) consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_LAST_OFFSET);
        else if (upper.startsWith("TIMESTAMP:")) {
            consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_TIMESTAMP);
            consumer.setConsumeTimestamp(from.substring("TIMESTAMP:".length()));
        } else throw new Errors.Usage("--from takes FIRST, LAST or TIMESTAMP:yyyyMMddHHmmss, got " + from);
    }

    private String waitForEnd(long deadline, long idleMs) throws InterruptedException {
        while (true) {
            long now = System.currentTimeMillis();
            if (control.isStopped()) return control.reason();
            if (count > 0 && consumed.get() >= count) return "count";
            if (idleMs > 0 && now - lastMessageAt >= idleMs) return "idle";
            if (now >= deadline) return "timeout";
            control.await(Math.min(20, deadline - now));
        }
    }

    /** Whether this delivery fails on purpose: while the message was delivered fewer than --fail-first times before. */
    private boolean handle(List<MessageExt> msgs, String failure) {
        boolean fail = false;
        for (MessageExt msg : msgs) fail |= msg.getReconsumeTimes() < failFirst;
        if (consumeDelayMs > 0) {
            try {
                Thread.sleep(consumeDelayMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (MessageExt msg : msgs) {
            deliveries.incrementAndGet();
            if (fail) failedDeliveries.incrementAndGet();
            Out.emit(Messages.describe(Json.event("message"), msg, withBody).put("result", fail ? failure : "SUCCESS"));
        }
        lastMessageAt = System.currentTimeMillis();
        if (!fail && consumed.addAndGet(msgs.size()) >= count && count > 0) control.stop("count");
        return !fail;
    }

    private MessageListenerConcurrently concurrently() {
        return (msgs, context) -> handle(msgs, "RECONSUME_LATER")
            ? ConsumeConcurrentlyStatus.CONSUME_SUCCESS : ConsumeConcurrentlyStatus.RECONSUME_LATER;
    }

    private MessageListenerOrderly orderly() {
        return (msgs, context) -> handle(msgs, "SUSPEND_CURRENT_QUEUE_A_MOMENT")
            ? ConsumeOrderlyStatus.SUCCESS : ConsumeOrderlyStatus.SUSPEND_CURRENT_QUEUE_A_MOMENT;
    }

    /** Java's averaging allocation, reporting each new result per topic as a {@code rebalance} event. */
    static final class Reporting implements AllocateMessageQueueStrategy {
        private final AllocateMessageQueueAveragely averagely = new AllocateMessageQueueAveragely();
        private final Map<String, List<MessageQueue>> last = new ConcurrentHashMap<>();

        @Override
        public List<MessageQueue> allocate(String group, String clientId, List<MessageQueue> all, List<String> clientIds) {
            List<MessageQueue> result = averagely.allocate(group, clientId, all, clientIds);
            String topic = all.isEmpty() ? "" : all.get(0).getTopic();
            List<MessageQueue> previous = last.put(topic, new ArrayList<>(result));
            if (!result.equals(previous)) {
                List<Object> queues = new ArrayList<>();
                for (MessageQueue mq : result) {
                    queues.add(new Json().put("topic", mq.getTopic()).put("brokerName", mq.getBrokerName()).put("queueId", mq.getQueueId()));
                }
                Out.emit(Json.event("rebalance").put("topic", topic).put("clientId", clientId)
                    .putArray("consumerIds", new ArrayList<Object>(clientIds)).putArray("allocated", queues));
            }
            return result;
        }

        @Override
        public String getName() {
            return averagely.getName();
        }
    }
}
