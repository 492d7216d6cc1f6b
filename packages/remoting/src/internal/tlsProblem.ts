/**
 * Node's TLS failure codes as sentences: what is wrong with the peer's certificate (or with the
 * handshake), and what to change. Used by `ConnectError` when a connection with TLS on failed
 * after the TCP connect and before the handshake completed.
 *
 * Only the codes a client meets in practice get their own sentence; any other code is named as
 * is, with the advice that fits every handshake failure.
 */

/** Codes Node reports when the TCP connection ended during the handshake. */
const CLOSED_DURING_HANDSHAKE: ReadonlySet<string> = new Set(["ECONNRESET", "EPIPE", "ERR_SOCKET_CLOSED"])

/** Codes OpenSSL reports when the bytes the peer sent back are not TLS at all. */
const NOT_TLS: ReadonlySet<string> = new Set([
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "ERR_SSL_PACKET_LENGTH_TOO_LONG",
  "ERR_SSL_HTTP_REQUEST",
  "EPROTO"
])

const UNTRUSTED = "Give the client the CA that signed the server's certificate (`tls.ca`), or have the server " +
  "present a certificate issued by a CA the client trusts."

const SENTENCES: Readonly<Record<string, string>> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the server's certificate is not signed by any CA this client trusts (a wrong " +
    `or missing CA). ${UNTRUSTED}`,
  UNABLE_TO_GET_ISSUER_CERT: "the issuer of the server's certificate is not among the CAs this client trusts. " +
    UNTRUSTED,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "the issuer of the server's certificate is not among the CAs this client " +
    `trusts. ${UNTRUSTED}`,
  SELF_SIGNED_CERT_IN_CHAIN: "the server's certificate chain ends in a self-signed CA this client does not trust. " +
    UNTRUSTED,
  DEPTH_ZERO_SELF_SIGNED_CERT: "the server presents a self-signed certificate this client does not trust. " +
    "Give that certificate as the client's CA (`tls.ca`), or have the server present one issued by a trusted CA.",
  CERT_UNTRUSTED: `the server's certificate is not trusted for TLS servers. ${UNTRUSTED}`,
  CERT_SIGNATURE_FAILURE: "the signature on the server's certificate is invalid (the certificate was altered or " +
    "signed by another key). Reissue the server's certificate.",
  CERT_HAS_EXPIRED: "the server's certificate has expired. Renew the certificate on the server (or check this " +
    "machine's clock).",
  CERT_NOT_YET_VALID: "the server's certificate is not valid yet. Check the clocks of this machine and of the " +
    "machine that issued the certificate.",
  CERT_REVOKED: "the server's certificate has been revoked. Issue the server a new certificate.",
  ERR_TLS_CERT_ALTNAME_INVALID: "the server's certificate is not issued for the host name or IP address this " +
    "client connected to (it is not among the certificate's subject alternative names). Connect with a name the " +
    "certificate lists, set `tls.servername` to one, or issue the certificate for this address."
}

/** What went wrong, as a sentence (with what to do), for the Node error `code` of a failed handshake. */
export const describe = (code: string): string => {
  const sentence = SENTENCES[code]
  if (sentence !== undefined) return sentence
  if (CLOSED_DURING_HANDSHAKE.has(code)) {
    return `the server closed the connection during the TLS handshake (${code}): this port does not speak TLS ` +
      "(a plaintext port, or TLS disabled on the server). Turn TLS off for this address, or connect to the " +
      "server's TLS port."
  }
  if (NOT_TLS.has(code)) {
    return `the server answered the TLS handshake with bytes that are not TLS (${code}): this port speaks ` +
      "plaintext. Turn TLS off for this address, or connect to the server's TLS port."
  }
  return `the TLS handshake failed (${code}). Check the server's certificate and the client's TLS options ` +
    "(`tls.ca`, `tls.servername`)."
}
