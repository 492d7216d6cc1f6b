package driver;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.rocketmq.client.consumer.DefaultMQPullConsumer;
import org.apache.rocketmq.client.consumer.PullResult;
import org.apache.rocketmq.client.consumer.PullStatus;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;

/**
 * {@code pull}: reads queues with the Java client's pull path (Java's decoder: decompression,
 * inner-batch unwrapping, tag filtering), for checking what another producer stored.
 *
 * <p>--topic; --queue-id (default: every queue of the topic) and --broker-name (default: every
 * broker); the range --from (default the queue's min offset) to --to (exclusive; default the
 * queue's max offset when the pull starts); --max-messages caps the total; --wait-ms keeps
 * pulling a queue that has no new message yet until --to is reached or the time is up.
 *
 * <p>Events: {@code queue} per queue read (its min and max offsets), {@code message} per
 * message, {@code pull} per pull request (status and offsets), {@code summary}. Exit 0, or 4
 * when a pull failed (an {@code error} event says why).
 */
@SuppressWarnings("deprecation")
final class Pull {
    private Pull() {}

    static int run(Args args) throws Exception {
        String topic = args.required("topic");
        int queueId = args.intValue("queue-id", -1);
        String brokerName = args.string("broker-name", null);
        long from = args.longValue("from", -1);
        long to = args.longValue("to", -1);
        long maxMessages = args.longValue("max-messages", Long.MAX_VALUE);
        long waitMs = args.longValue("wait-ms", 0);
        String expression = args.string("expression", "*");
        int batch = args.intValue("batch", 32);
        boolean withBody = !args.flag("no-body");
        DefaultMQPullConsumer consumer = new DefaultMQPullConsumer(args.string("group", "driver_pull_" + System.nanoTime()));
        Clients.configure(consumer, args);
        args.finish();
        try {
            consumer.start();
        } catch (Exception e) {
            throw new Errors.StartFailed("the pull consumer could not start: " + e.getMessage(), e);
        }
        long total = 0;
        try {
            List<MessageQueue> queues = new ArrayList<>(consumer.fetchSubscribeMessageQueues(topic));
            queues.removeIf(mq -> (queueId >= 0 && mq.getQueueId() != queueId) || (brokerName != null && !mq.getBrokerName().equals(brokerName)));
            queues.sort(Comparator.comparing(MessageQueue::getBrokerName).thenComparingInt(MessageQueue::getQueueId));
            if (queues.isEmpty()) throw new Errors.Usage("no queue of " + topic + " matches --queue-id/--broker-name");
            for (MessageQueue mq : queues) {
                if (total >= maxMessages) break;
                total += readQueue(consumer, mq, expression, from, to, maxMessages - total, waitMs, batch, withBody);
            }
            Out.emit(Json.event("summary").put("messages", total).put("queues", queues.size()));
            return Errors.OK;
        } catch (Errors.Usage e) {
            throw e;
        } catch (Exception e) {
            Out.error("pull", e);
            Out.emit(Json.event("summary").put("messages", total));
            return Errors.OPERATION_FAILED;
        } finally {
            consumer.shutdown();
        }
    }

    private static long readQueue(DefaultMQPullConsumer consumer, MessageQueue mq, String expression, long from, long to,
                                  long max, long waitMs, int batch, boolean withBody) throws Exception {
        long min = consumer.minOffset(mq);
        long maxOffset = consumer.maxOffset(mq);
        Out.emit(Json.event("queue").put("topic", mq.getTopic()).put("brokerName", mq.getBrokerName())
            .put("queueId", mq.getQueueId()).put("minOffset", min).put("maxOffset", maxOffset));
        long offset = from >= 0 ? from : min;
        long end = to >= 0 ? to : maxOffset;
        long deadline = System.currentTimeMillis() + waitMs;
        long read = 0;
        while (offset < end && read < max) {
            PullResult result = consumer.pull(mq, expression, offset, (int) Math.min(batch, max - read));
            List<MessageExt> found = result.getMsgFoundList() == null ? List.of() : result.getMsgFoundList();
            Out.emit(Json.event("pull").put("queueId", mq.getQueueId()).put("brokerName", mq.getBrokerName())
                .put("offset", offset).put("status", result.getPullStatus().name())
                .put("nextBeginOffset", result.getNextBeginOffset()).put("minOffset", result.getMinOffset())
                .put("maxOffset", result.getMaxOffset()).put("found", found.size()));
            for (MessageExt msg : found) {
                if (msg.getQueueOffset() >= end || read >= max) break;
                Out.emit(Messages.describe(Json.event("message"), msg, withBody));
                read++;
            }
            if (result.getPullStatus() == PullStatus.FOUND || result.getPullStatus() == PullStatus.NO_MATCHED_MSG) {
                offset = result.getNextBeginOffset();
            } else if (result.getPullStatus() == PullStatus.NO_NEW_MSG && System.currentTimeMillis() < deadline) {
                Thread.sleep(50);
            } else if (result.getPullStatus() == PullStatus.OFFSET_ILLEGAL && result.getNextBeginOffset() > offset) {
                offset = result.getNextBeginOffset();
            } else {
                break;
            }
        }
        return read;
    }
}
