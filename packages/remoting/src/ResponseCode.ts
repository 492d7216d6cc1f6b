/**
 * Response codes of the Apache RocketMQ remoting protocol (Java 5.3.3 `RemotingSysResponseCode` and
 * `ResponseCode`), as plain numbers. The negative `RPC_*` codes are client-side only and never come
 * from a server.
 *
 * @since 0.1.0
 */

export const SUCCESS = 0
export const SYSTEM_ERROR = 1
export const SYSTEM_BUSY = 2
export const REQUEST_CODE_NOT_SUPPORTED = 3
export const TRANSACTION_FAILED = 4
export const FLUSH_DISK_TIMEOUT = 10
export const SLAVE_NOT_AVAILABLE = 11
export const FLUSH_SLAVE_TIMEOUT = 12
export const MESSAGE_ILLEGAL = 13
export const SERVICE_NOT_AVAILABLE = 14
export const VERSION_NOT_SUPPORTED = 15
export const NO_PERMISSION = 16
export const TOPIC_NOT_EXIST = 17
export const TOPIC_EXIST_ALREADY = 18
export const PULL_NOT_FOUND = 19
export const PULL_RETRY_IMMEDIATELY = 20
export const PULL_OFFSET_MOVED = 21
export const QUERY_NOT_FOUND = 22
export const SUBSCRIPTION_PARSE_FAILED = 23
export const SUBSCRIPTION_NOT_EXIST = 24
export const SUBSCRIPTION_NOT_LATEST = 25
export const SUBSCRIPTION_GROUP_NOT_EXIST = 26
export const FILTER_DATA_NOT_EXIST = 27
export const FILTER_DATA_NOT_LATEST = 28
export const INVALID_PARAMETER = 29
export const TRANSACTION_SHOULD_COMMIT = 200
export const TRANSACTION_SHOULD_ROLLBACK = 201
export const TRANSACTION_STATE_UNKNOW = 202
export const TRANSACTION_STATE_GROUP_WRONG = 203
export const NO_BUYER_ID = 204
export const NOT_IN_CURRENT_UNIT = 205
export const CONSUMER_NOT_ONLINE = 206
export const CONSUME_MSG_TIMEOUT = 207
export const NO_MESSAGE = 208
export const POLLING_FULL = 209
export const POLLING_TIMEOUT = 210
export const BROKER_NOT_EXIST = 211
export const BROKER_DISPATCH_NOT_COMPLETE = 212
export const BROADCAST_CONSUMPTION = 213
export const FLOW_CONTROL = 215
export const NOT_LEADER_FOR_QUEUE = 501
export const ILLEGAL_OPERATION = 604
export const GO_AWAY = 1500
export const USER_NOT_EXIST = 3001
export const POLICY_NOT_EXIST = 3002
export const RPC_UNKNOWN = -1000
export const RPC_ADDR_IS_NULL = -1002
export const RPC_SEND_TO_CHANNEL_FAILED = -1004
export const RPC_TIME_OUT = -1006

const names: ReadonlyMap<number, string> = new Map([
  [0, "SUCCESS"],
  [1, "SYSTEM_ERROR"],
  [2, "SYSTEM_BUSY"],
  [3, "REQUEST_CODE_NOT_SUPPORTED"],
  [4, "TRANSACTION_FAILED"],
  [10, "FLUSH_DISK_TIMEOUT"],
  [11, "SLAVE_NOT_AVAILABLE"],
  [12, "FLUSH_SLAVE_TIMEOUT"],
  [13, "MESSAGE_ILLEGAL"],
  [14, "SERVICE_NOT_AVAILABLE"],
  [15, "VERSION_NOT_SUPPORTED"],
  [16, "NO_PERMISSION"],
  [17, "TOPIC_NOT_EXIST"],
  [18, "TOPIC_EXIST_ALREADY"],
  [19, "PULL_NOT_FOUND"],
  [20, "PULL_RETRY_IMMEDIATELY"],
  [21, "PULL_OFFSET_MOVED"],
  [22, "QUERY_NOT_FOUND"],
  [23, "SUBSCRIPTION_PARSE_FAILED"],
  [24, "SUBSCRIPTION_NOT_EXIST"],
  [25, "SUBSCRIPTION_NOT_LATEST"],
  [26, "SUBSCRIPTION_GROUP_NOT_EXIST"],
  [27, "FILTER_DATA_NOT_EXIST"],
  [28, "FILTER_DATA_NOT_LATEST"],
  [29, "INVALID_PARAMETER"],
  [200, "TRANSACTION_SHOULD_COMMIT"],
  [201, "TRANSACTION_SHOULD_ROLLBACK"],
  [202, "TRANSACTION_STATE_UNKNOW"],
  [203, "TRANSACTION_STATE_GROUP_WRONG"],
  [204, "NO_BUYER_ID"],
  [205, "NOT_IN_CURRENT_UNIT"],
  [206, "CONSUMER_NOT_ONLINE"],
  [207, "CONSUME_MSG_TIMEOUT"],
  [208, "NO_MESSAGE"],
  [209, "POLLING_FULL"],
  [210, "POLLING_TIMEOUT"],
  [211, "BROKER_NOT_EXIST"],
  [212, "BROKER_DISPATCH_NOT_COMPLETE"],
  [213, "BROADCAST_CONSUMPTION"],
  [215, "FLOW_CONTROL"],
  [501, "NOT_LEADER_FOR_QUEUE"],
  [604, "ILLEGAL_OPERATION"],
  [1500, "GO_AWAY"],
  [3001, "USER_NOT_EXIST"],
  [3002, "POLICY_NOT_EXIST"],
  [-1000, "RPC_UNKNOWN"],
  [-1002, "RPC_ADDR_IS_NULL"],
  [-1004, "RPC_SEND_TO_CHANNEL_FAILED"],
  [-1006, "RPC_TIME_OUT"]
])

/**
 * The Java name of a response code, or `"UNKNOWN(<code>)"`: for log lines and error messages.
 *
 * @since 0.1.0
 * @category conversions
 */
export const name = (code: number): string => names.get(code) ?? `UNKNOWN(${code})`
