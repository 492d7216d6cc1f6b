package driver;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.remoting.protocol.admin.ConsumeStats;
import org.apache.rocketmq.remoting.protocol.admin.OffsetWrapper;
import org.apache.rocketmq.remoting.protocol.body.Connection;
import org.apache.rocketmq.remoting.protocol.body.ConsumeStatus;
import org.apache.rocketmq.remoting.protocol.body.ConsumerConnection;
import org.apache.rocketmq.remoting.protocol.body.ConsumerRunningInfo;
import org.apache.rocketmq.remoting.protocol.body.ProcessQueueInfo;
import org.apache.rocketmq.remoting.protocol.heartbeat.SubscriptionData;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * {@code admin <op>} with {@code DefaultMQAdminExt}, the API of Java's admin tools:
 * <ul>
 *   <li>{@code running-info --group G --client-id C [--jstack]}: {@code getConsumerRunningInfo}
 *       (the broker forwards GET_CONSUMER_RUNNING_INFO to that client and returns its answer);</li>
 *   <li>{@code connections --group G}: {@code examineConsumerConnectionInfo};</li>
 *   <li>{@code consume-stats --group G [--topic T]}: {@code examineConsumeStats}.</li>
 * </ul>
 * Prints one {@code admin} event ({@code op}, {@code result}); exit 4 with an {@code error} event
 * when the call fails.
 */
final class Admin {
    private Admin() {}

    static int run(String op, Args args) throws Exception {
        DefaultMQAdminExt admin = new DefaultMQAdminExt();
        admin.setInstanceName("driver_admin_" + System.nanoTime());
        Clients.configure(admin, args);
        String group = args.required("group");
        Json result;
        switch (op) {
            case "running-info": {
                String clientId = args.required("client-id");
                boolean jstack = args.flag("jstack");
                args.finish();
                start(admin);
                result = call(admin, () -> runningInfo(admin.getConsumerRunningInfo(group, clientId, jstack)));
                break;
            }
            case "connections":
                args.finish();
                start(admin);
                result = call(admin, () -> connections(admin.examineConsumerConnectionInfo(group)));
                break;
            case "consume-stats": {
                String topic = args.string("topic", null);
                args.finish();
                start(admin);
                result = call(admin, () -> consumeStats(topic == null ? admin.examineConsumeStats(group) : admin.examineConsumeStats(group, topic)));
                break;
            }
            default:
                throw new Errors.Usage("admin takes running-info, connections or consume-stats, got " + op);
        }
        if (result == null) return Errors.OPERATION_FAILED;
        Out.emit(Json.event("admin").put("op", op).put("result", result));
        return Errors.OK;
    }

    private interface Call {
        Json get() throws Exception;
    }

    private static void start(DefaultMQAdminExt admin) {
        try {
            admin.start();
        } catch (Exception e) {
            throw new Errors.StartFailed("the admin client could not start: " + e.getMessage(), e);
        }
    }

    private static Json call(DefaultMQAdminExt admin, Call call) {
        try {
            return call.get();
        } catch (Exception e) {
            Out.error("admin", e);
            return null;
        } finally {
            admin.shutdown();
        }
    }

    private static Json queue(MessageQueue mq) {
        return new Json().put("topic", mq.getTopic()).put("brokerName", mq.getBrokerName()).put("queueId", mq.getQueueId());
    }

    private static List<Object> subscriptions(Collection<SubscriptionData> all) {
        List<Object> out = new ArrayList<>();
        for (SubscriptionData s : all) {
            out.add(new Json().put("topic", s.getTopic()).put("subString", s.getSubString())
                .put("expressionType", s.getExpressionType()).putArray("tags", new ArrayList<Object>(s.getTagsSet()))
                .put("subVersion", s.getSubVersion()));
        }
        return out;
    }

    static Json runningInfo(ConsumerRunningInfo info) {
        List<Object> queues = new ArrayList<>();
        for (Map.Entry<MessageQueue, ProcessQueueInfo> e : info.getMqTable().entrySet()) {
            ProcessQueueInfo p = e.getValue();
            queues.add(queue(e.getKey()).put("commitOffset", p.getCommitOffset())
                .put("cachedMsgMinOffset", p.getCachedMsgMinOffset()).put("cachedMsgMaxOffset", p.getCachedMsgMaxOffset())
                .put("cachedMsgCount", p.getCachedMsgCount()).put("cachedMsgSizeInMiB", p.getCachedMsgSizeInMiB())
                .put("transactionMsgCount", p.getTransactionMsgCount()).put("locked", p.isLocked())
                .put("tryUnlockTimes", p.getTryUnlockTimes()).put("lastLockTimestamp", p.getLastLockTimestamp())
                .put("dropped", p.isDroped()).put("lastPullTimestamp", p.getLastPullTimestamp())
                .put("lastConsumeTimestamp", p.getLastConsumeTimestamp()));
        }
        Json status = new Json();
        for (Map.Entry<String, ConsumeStatus> e : info.getStatusTable().entrySet()) {
            ConsumeStatus s = e.getValue();
            status.put(e.getKey(), new Json().put("pullRT", s.getPullRT()).put("pullTPS", s.getPullTPS())
                .put("consumeRT", s.getConsumeRT()).put("consumeOKTPS", s.getConsumeOKTPS())
                .put("consumeFailedTPS", s.getConsumeFailedTPS()).put("consumeFailedMsgs", s.getConsumeFailedMsgs()));
        }
        return new Json().putStrings("properties", info.getProperties())
            .putArray("subscriptions", subscriptions(info.getSubscriptionSet()))
            .putArray("queues", queues)
            .put("status", status)
            .putStrings("userConsumerInfo", info.getUserConsumerInfo())
            .put("jstack", info.getJstack());
    }

    static Json connections(ConsumerConnection c) {
        List<Object> connections = new ArrayList<>();
        for (Connection conn : c.getConnectionSet()) {
            connections.add(new Json().put("clientId", conn.getClientId()).put("clientAddr", conn.getClientAddr())
                .put("language", String.valueOf(conn.getLanguage())).put("version", conn.getVersion()));
        }
        return new Json().putArray("connections", connections)
            .putArray("subscriptions", subscriptions(c.getSubscriptionTable().values()))
            .put("consumeType", String.valueOf(c.getConsumeType()))
            .put("messageModel", String.valueOf(c.getMessageModel()))
            .put("consumeFromWhere", String.valueOf(c.getConsumeFromWhere()));
    }

    static Json consumeStats(ConsumeStats stats) {
        List<Object> queues = new ArrayList<>();
        for (Map.Entry<MessageQueue, OffsetWrapper> e : stats.getOffsetTable().entrySet()) {
            OffsetWrapper o = e.getValue();
            queues.add(queue(e.getKey()).put("brokerOffset", o.getBrokerOffset()).put("consumerOffset", o.getConsumerOffset())
                .put("pullOffset", o.getPullOffset()).put("lastTimestamp", o.getLastTimestamp()));
        }
        return new Json().put("consumeTps", stats.getConsumeTps()).put("totalDiff", stats.computeTotalDiff()).putArray("queues", queues);
    }
}
