package driver;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.LocalTransactionState;
import org.apache.rocketmq.client.producer.MessageQueueSelector;
import org.apache.rocketmq.client.producer.SendCallback;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.TransactionListener;
import org.apache.rocketmq.client.producer.TransactionMQProducer;
import org.apache.rocketmq.client.producer.TransactionSendResult;
import org.apache.rocketmq.client.producer.selector.SelectMessageQueueByHash;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageClientIDSetter;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;

/**
 * {@code produce}: sends --count messages (see {@link Messages} for their content) with a
 * {@code DefaultMQProducer}, or a {@code TransactionMQProducer} when --transaction is given.
 *
 * <p>Events: {@code started}; one {@code sent} per message or batch (or {@code send-error});
 * {@code local-transaction} and {@code check} for transactions; {@code summary}. Exit 0 when
 * every send succeeded, 4 otherwise, 5 when --await-checks were not all seen in time.
 */
final class Produce {
    private final DefaultMQProducer producer;
    private final Messages messages;
    private final long count;
    private final String mode;
    private final int inFlight;
    private final int batch;
    private final String shardingKey;
    private final int queueId;
    private final boolean echoBody;
    private final LocalTransactionState localState;
    private final LocalTransactionState checkState;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong checks = new AtomicLong();

    private Produce(Args args) {
        messages = new Messages(args);
        count = args.longValue("count", 1);
        mode = args.choice("mode", "SYNC", "SYNC", "ASYNC", "ONEWAY");
        inFlight = Math.max(1, args.intValue("in-flight", 1));
        batch = args.intValue("batch", 0);
        shardingKey = args.string("sharding-key", null);
        queueId = args.intValue("queue-id", -1);
        echoBody = args.flag("echo-body");
        localState = state(args.choice("transaction", null, "COMMIT", "ROLLBACK", "UNKNOW", "UNKNOWN"));
        checkState = state(args.choice("check-state", "COMMIT", "COMMIT", "ROLLBACK", "UNKNOW", "UNKNOWN"));
        String group = args.string("group", "driver_producer_" + System.nanoTime());
        if (localState != null) {
            TransactionMQProducer tx = new TransactionMQProducer(group);
            tx.setTransactionListener(listener());
            producer = tx;
            if (!mode.equals("SYNC") || batch > 0 || shardingKey != null || queueId >= 0) {
                throw new Errors.Usage("--transaction sends one message at a time, synchronously, to a queue Java picks "
                    + "(no --mode, --batch, --sharding-key or --queue-id)");
            }
        } else {
            producer = new DefaultMQProducer(group);
        }
        if (batch > 0 && shardingKey != null) throw new Errors.Usage("a batch cannot be sent by --sharding-key (Java has no selector for batches); use --queue-id");
        Producers.configure(producer, args);
    }

    private static LocalTransactionState state(String name) {
        if (name == null) return null;
        return name.startsWith("UNKNOW") ? LocalTransactionState.UNKNOW
            : name.equals("COMMIT") ? LocalTransactionState.COMMIT_MESSAGE : LocalTransactionState.ROLLBACK_MESSAGE;
    }

    private static String stateName(LocalTransactionState state) {
        return state == LocalTransactionState.COMMIT_MESSAGE ? "COMMIT" : state == LocalTransactionState.ROLLBACK_MESSAGE ? "ROLLBACK" : "UNKNOW";
    }

    private TransactionListener listener() {
        return new TransactionListener() {
            @Override
            public LocalTransactionState executeLocalTransaction(Message msg, Object arg) {
                Out.emit(Json.event("local-transaction").put("msgId", MessageClientIDSetter.getUniqID(msg))
                    .put("transactionId", msg.getTransactionId()).put("state", stateName(localState)));
                return localState;
            }

            @Override
            public LocalTransactionState checkLocalTransaction(MessageExt msg) {
                checks.incrementAndGet();
                Out.emit(Messages.describe(Json.event("check"), msg, false)
                    .put("transactionId", msg.getTransactionId()).put("state", stateName(checkState)));
                return checkState;
            }
        };
    }

    static int run(Args args) throws Exception {
        Produce produce = new Produce(args);
        long lingerMs = args.longValue("linger-ms", 0);
        long awaitChecks = args.longValue("await-checks", 0);
        long timeoutMs = args.longValue("timeout-ms", 120_000);
        args.finish();
        Control control = Control.start();
        Producers.start(produce.producer);
        long begin = System.currentTimeMillis();
        try {
            Out.emit(Json.event("started").put("clientId", produce.producer.buildMQClientId()).put("group", produce.producer.getProducerGroup()));
            produce.sendAll();
            long deadline = begin + timeoutMs;
            long lingerUntil = System.currentTimeMillis() + lingerMs;
            boolean checksSeen = produce.checks.get() >= awaitChecks;
            while (!control.isStopped() && (!checksSeen || System.currentTimeMillis() < lingerUntil) && System.currentTimeMillis() < deadline) {
                control.await(Math.min(50, deadline - System.currentTimeMillis()));
                checksSeen = produce.checks.get() >= awaitChecks;
            }
            Out.emit(Json.event("summary").put("sent", produce.sent.get()).put("failed", produce.failed.get())
                .put("checks", produce.checks.get()).put("elapsedMs", System.currentTimeMillis() - begin));
            if (produce.failed.get() > 0) return Errors.OPERATION_FAILED;
            return checksSeen ? Errors.OK : Errors.TIMEOUT;
        } finally {
            produce.producer.shutdown();
        }
    }

    private void sendAll() throws InterruptedException {
        int step = batch > 0 ? batch : 1;
        AtomicLong next = new AtomicLong();
        if (mode.equals("ASYNC")) {
            Semaphore permits = new Semaphore(inFlight);
            for (long i = 0; i < count; i += step) {
                permits.acquire();
                sendAsync(i, permits);
            }
            permits.acquire(inFlight);
            return;
        }
        List<Thread> workers = new ArrayList<>();
        for (int w = 0; w < inFlight; w++) {
            Thread worker = new Thread(() -> {
                long i;
                while ((i = next.getAndAdd(step)) < count) sendSync(i);
            }, "driver-send-" + w);
            worker.start();
            workers.add(worker);
        }
        for (Thread worker : workers) worker.join();
    }

    private List<Message> batchAt(long index) {
        List<Message> list = new ArrayList<>();
        for (long j = index; j < Math.min(index + batch, count); j++) list.add(messages.build(j));
        return list;
    }

    private MessageQueueSelector selector() {
        if (shardingKey != null) return new SelectMessageQueueByHash();
        return (mqs, msg, arg) -> {
            for (MessageQueue mq : mqs) if (mq.getQueueId() == queueId) return mq;
            throw new IllegalArgumentException("no writable queue " + queueId + " in " + mqs);
        };
    }

    private volatile MessageQueue batchQueue;

    /** The queue --queue-id names, for batches (Java sends a batch to a queue, not through a selector). */
    private MessageQueue batchQueue() throws Exception {
        if (batchQueue == null) {
            for (MessageQueue mq : producer.fetchPublishMessageQueues(messages.topic)) {
                if (mq.getQueueId() == queueId) batchQueue = mq;
            }
            if (batchQueue == null) throw new IllegalArgumentException("no writable queue " + queueId + " in the route of " + messages.topic);
        }
        return batchQueue;
    }

    private boolean selected() {
        return shardingKey != null || queueId >= 0;
    }

    private void sendSync(long index) {
        try {
            if (batch > 0) {
                List<Message> list = batchAt(index);
                reportBatch(index, list, queueId >= 0 ? producer.send(list, batchQueue()) : producer.send(list));
            } else if (mode.equals("ONEWAY")) {
                Message msg = messages.build(index);
                if (selected()) producer.sendOneway(msg, selector(), Messages.expand(shardingKey, index));
                else producer.sendOneway(msg);
                sent.incrementAndGet();
                Out.emit(sentEvent(index, msg).put("msgId", MessageClientIDSetter.getUniqID(msg)).put("oneway", true));
            } else {
                Message msg = messages.build(index);
                SendResult result;
                if (localState != null) result = producer.sendMessageInTransaction(msg, null);
                else if (selected()) result = producer.send(msg, selector(), Messages.expand(shardingKey, index));
                else result = producer.send(msg);
                report(index, msg, result);
            }
        } catch (Exception e) {
            reportError(index, e);
        }
    }

    private void sendAsync(long index, Semaphore permits) {
        List<Message> list = batch > 0 ? batchAt(index) : List.of(messages.build(index));
        SendCallback callback = new SendCallback() {
            @Override
            public void onSuccess(SendResult result) {
                if (batch > 0) reportBatch(index, list, result);
                else report(index, list.get(0), result);
                permits.release();
            }

            @Override
            public void onException(Throwable e) {
                reportError(index, e);
                permits.release();
            }
        };
        try {
            if (batch > 0 && queueId >= 0) producer.send(list, batchQueue(), callback);
            else if (batch > 0) producer.send(list, callback);
            else if (selected()) producer.send(list.get(0), selector(), Messages.expand(shardingKey, index), callback);
            else producer.send(list.get(0), callback);
        } catch (Exception e) {
            callback.onException(e);
        }
    }

    private Json sentEvent(long index, Message msg) {
        Json event = Json.event("sent").put("index", index).put("tags", msg.getTags()).put("keys", msg.getKeys()).put("bodySize", msg.getBody().length);
        if (echoBody) event.putBase64("body", msg.getBody()).putStrings("properties", msg.getProperties());
        return event;
    }

    private void report(long index, Message msg, SendResult result) {
        sent.incrementAndGet();
        Json event = Messages.describe(sentEvent(index, msg), result);
        if (result instanceof TransactionSendResult) {
            event.put("localTransactionState", stateName(((TransactionSendResult) result).getLocalTransactionState()));
        }
        Out.emit(event);
    }

    private void reportBatch(long index, List<Message> list, SendResult result) {
        sent.addAndGet(list.size());
        List<Object> ids = new ArrayList<>();
        for (Message m : list) ids.add(MessageClientIDSetter.getUniqID(m));
        List<Object> offsetIds = new ArrayList<>(List.of(String.valueOf(result.getOffsetMsgId()).split(",")));
        Json event = Messages.describe(Json.event("sent").put("index", index).put("count", list.size()), result)
            .putArray("msgIds", ids).putArray("offsetMsgIds", offsetIds);
        Out.emit(event);
    }

    private void reportError(long index, Throwable e) {
        failed.addAndGet(batch > 0 ? Math.min(batch, count - index) : 1);
        Out.emit(Errors.describe(Json.event("send-error").put("index", index), e));
    }
}
