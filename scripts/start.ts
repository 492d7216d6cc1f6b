/**
 * `npm start`: the demo. Until the client issue lands this prints what the demo will do.
 */
console.log(`effect-rocketmq ${process.version}

npm start will run the end-to-end demo once the client package lands:
  - with no configuration it starts the in-memory broker from @effect-rocketmq/testkit;
  - with ROCKETMQ_NAMESRV_ADDR=127.0.0.1:9876 it uses a real Apache RocketMQ cluster;
  - it creates a topic, sends N messages (default 10,000) through the Channel, pulls them back,
    verifies them and prints sent / received / p50 / p99 send latency / throughput.

What exists today: @effect-rocketmq/remoting (RemotingCommand, Codec, Header). Try:
  npm test              unit, golden-vector and property tests
  npm run bench:codec   header encode/decode vs JSON.stringify/JSON.parse
`)
