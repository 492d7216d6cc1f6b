package driver;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageClientExt;
import org.apache.rocketmq.common.message.MessageClientIDSetter;
import org.apache.rocketmq.common.message.MessageExt;

/**
 * What the produce modes send and how every message and send result is printed.
 *
 * <p>Strings given for tags, keys, property values, literal bodies and sharding keys are
 * templates: {@code {i}} becomes the message's index (0-based) and {@code {i%N}} the index
 * modulo N. Generated bodies (no literal body given) are a pure function of the index and size
 * (see {@link #generatedBody}), so a test can rebuild any of them.
 */
final class Messages {
    private static final Pattern TEMPLATE = Pattern.compile("\\{i(?:%(\\d+))?}");

    final String topic;
    private final String tags;
    private final String keys;
    private final Map<String, String> properties = new LinkedHashMap<>();
    private final int flag;
    private final List<String> bodies;
    private final List<byte[]> rawBodies = new ArrayList<>();
    private final List<Integer> sizes = new ArrayList<>();
    private final boolean random;
    private final int delayLevel;
    private final long deliverAfterMs;
    private final long deliverAtMs;
    private final boolean waitStoreMsgOk;

    Messages(Args args) {
        topic = args.required("topic");
        tags = args.string("tags", null);
        keys = args.string("keys", null);
        for (String entry : args.list("property")) {
            int eq = entry.indexOf('=');
            if (eq <= 0) throw new Errors.Usage("--property takes name=value, got " + entry);
            properties.put(entry.substring(0, eq), entry.substring(eq + 1));
        }
        flag = args.intValue("flag", 0);
        bodies = args.list("body");
        for (String b64 : args.list("body-base64")) rawBodies.add(Base64.getDecoder().decode(b64));
        for (String size : args.list("body-size")) {
            for (String part : size.split(",")) sizes.add(Integer.parseInt(part.trim()));
        }
        if (sizes.isEmpty()) sizes.add(128);
        for (int size : sizes) if (size <= 0) throw new Errors.Usage("--body-size must be positive, got " + size);
        random = args.choice("body-pattern", "TEXT", "TEXT", "RANDOM").equals("RANDOM");
        delayLevel = args.intValue("delay-level", 0);
        deliverAfterMs = args.longValue("deliver-after-ms", 0);
        deliverAtMs = args.longValue("deliver-at-ms", 0);
        waitStoreMsgOk = !args.flag("no-wait-store");
    }

    static String expand(String template, long index) {
        if (template == null) return null;
        Matcher m = TEMPLATE.matcher(template);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            long value = m.group(1) == null ? index : index % Long.parseLong(m.group(1));
            m.appendReplacement(sb, Long.toString(value));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    /**
     * Body {@code index} of {@code size} bytes. TEXT: lines {@code "message <index> line <k>
     * lorem ipsum dolor sit amet\n"} repeated and cut at {@code size} (compressible). RANDOM:
     * xorshift32 bytes seeded with {@code (index + 1) * 0x9E3779B9} (0 becomes 1), one byte per
     * step (the low 8 bits), which no compressor shrinks.
     */
    static byte[] generatedBody(long index, int size, boolean random) {
        byte[] out = new byte[size];
        if (random) {
            int state = (int) ((index + 1) * 0x9E3779B9L);
            if (state == 0) state = 1;
            for (int i = 0; i < size; i++) {
                state ^= state << 13;
                state ^= state >>> 17;
                state ^= state << 5;
                out[i] = (byte) state;
            }
            return out;
        }
        StringBuilder sb = new StringBuilder(size + 64);
        for (int k = 0; sb.length() < size; k++) sb.append("message ").append(index).append(" line ").append(k).append(" lorem ipsum dolor sit amet\n");
        System.arraycopy(sb.toString().getBytes(StandardCharsets.US_ASCII), 0, out, 0, size);
        return out;
    }

    byte[] body(long index) {
        if (!bodies.isEmpty()) return expand(bodies.get((int) (index % bodies.size())), index).getBytes(StandardCharsets.UTF_8);
        if (!rawBodies.isEmpty()) return rawBodies.get((int) (index % rawBodies.size()));
        return generatedBody(index, sizes.get((int) (index % sizes.size())), random);
    }

    Message build(long index) {
        Message message = new Message(topic, body(index));
        if (tags != null) message.setTags(expand(tags, index));
        if (keys != null) message.setKeys(expand(keys, index));
        message.setFlag(flag);
        properties.forEach((name, value) -> message.putUserProperty(name, expand(value, index)));
        if (delayLevel > 0) message.setDelayTimeLevel(delayLevel);
        if (deliverAfterMs > 0) message.setDelayTimeMs(deliverAfterMs);
        if (deliverAtMs > 0) message.setDeliverTimeMs(deliverAtMs);
        if (!waitStoreMsgOk) message.setWaitStoreMsgOK(false);
        return message;
    }

    static String hostPort(SocketAddress address) {
        if (address instanceof InetSocketAddress) {
            InetSocketAddress inet = (InetSocketAddress) address;
            String host = inet.getAddress() != null ? inet.getAddress().getHostAddress() : inet.getHostString();
            return host + ":" + inet.getPort();
        }
        return String.valueOf(address);
    }

    /** A received message with every field. */
    static Json describe(Json into, MessageExt m, boolean withBody) {
        String uniq = MessageClientIDSetter.getUniqID(m);
        String offsetMsgId = m instanceof MessageClientExt ? ((MessageClientExt) m).getOffsetMsgId() : m.getMsgId();
        into.put("msgId", uniq != null ? uniq : m.getMsgId())
            .put("offsetMsgId", offsetMsgId)
            .put("topic", m.getTopic())
            .put("tags", m.getTags())
            .put("keys", m.getKeys())
            .putStrings("properties", m.getProperties())
            .put("bodySize", m.getBody() == null ? 0 : m.getBody().length);
        if (withBody) into.putBase64("body", m.getBody());
        return into.put("queueId", m.getQueueId())
            .put("queueOffset", m.getQueueOffset())
            .put("commitLogOffset", m.getCommitLogOffset())
            .put("reconsumeTimes", m.getReconsumeTimes())
            .put("brokerName", m.getBrokerName())
            .put("bornTimestamp", m.getBornTimestamp())
            .put("storeTimestamp", m.getStoreTimestamp())
            .put("bornHost", hostPort(m.getBornHost()))
            .put("storeHost", hostPort(m.getStoreHost()))
            .put("sysFlag", m.getSysFlag())
            .put("flag", m.getFlag())
            .put("bodyCRC", m.getBodyCRC())
            .put("storeSize", m.getStoreSize())
            .put("preparedTransactionOffset", m.getPreparedTransactionOffset());
    }

    /** A send result (one message, or a batch whose ids are comma-joined by Java). */
    static Json describe(Json into, SendResult r) {
        into.put("status", r.getSendStatus().name())
            .put("msgId", r.getMsgId())
            .put("offsetMsgId", r.getOffsetMsgId());
        if (r.getMessageQueue() != null) {
            into.put("topic", r.getMessageQueue().getTopic())
                .put("brokerName", r.getMessageQueue().getBrokerName())
                .put("queueId", r.getMessageQueue().getQueueId());
        }
        return into.put("queueOffset", r.getQueueOffset())
            .put("transactionId", r.getTransactionId())
            .put("regionId", r.getRegionId())
            .put("traceOn", r.isTraceOn());
    }
}
