package driver;

import org.apache.rocketmq.client.ClientConfig;

/** The settings every client of the driver shares. */
final class Clients {
    private Clients() {}

    /**
     * --namesrv (or ROCKETMQ_NAMESRV_ADDR), --instance-name, and --api-timeout-ms (Java's
     * {@code mqClientApiTimeout}, default 3000: the timeout of route, heartbeat, offset and admin
     * calls).
     */
    static void configure(ClientConfig client, Args args) {
        client.setNamesrvAddr(args.namesrv());
        String instance = args.string("instance-name", null);
        if (instance != null) client.setInstanceName(instance);
        client.setMqClientApiTimeout(args.intValue("api-timeout-ms", 3000));
    }
}
