/** mqimg's library API: send and receive images over MQTT from code. */

export {
  type ReceiveImagesOptions,
  type ReceivingHandle,
  receiveImages,
  type StartReceivingOptions,
  startReceiving,
} from './api/receive-images.js';
export { type ImageInput, type SendImagesOptions, sendImages } from './api/send-images.js';
export { type EmbeddedBroker, startEmbeddedBroker } from './broker/embedded-broker.js';
export { ConnectionError, ExitCode, InputError, MqimgError, TransferError, UsageError } from './errors.js';
export type { OutputFormat, PreparedImage, PrepareOptions } from './image/prepare-image.js';
export {
  loadIdentity,
  loadRecipients,
  loadSecret,
  loadSigningKey,
  loadTrustedKeys,
} from './platform/key-files.js';
export { webCrypto } from './platform/web-crypto.js';
export { type Manifest, manifestSchema, parseManifest } from './protocol/manifest/manifest.js';
export type { CryptoProvider } from './protocol/security/crypto.js';
export { type Status, statusSchema } from './protocol/status/status.js';
export {
  FAILURE_CODES,
  type FailureCode,
  REJECTION_CODES,
  type RejectionCode,
} from './protocol/wire/codes.js';
export { DEFAULT_CHUNK_BYTES, PROTOCOL_VERSION } from './protocol/wire/constants.js';
export { receiverSubscriptions } from './protocol/wire/topics.js';
export { type ReceiveEvent, Receiver, type ReceiverOptions } from './session/receive/receiver.js';
export { type ClearedTransfer, clearRetained } from './session/send/clear-retained.js';
export type { SendSecurity, SigningKey } from './session/send/outgoing-transfer.js';
export type { SendProgress, SendResult } from './session/send/send-session.js';
export {
  type BrokerLimits,
  type ConnectionEvent,
  type ConnectOptions,
  MqttTransport,
  type TransportTiming,
} from './transport/mqtt-transport.js';
