/** mqimg's library API: send and receive images over MQTT from code. */
export { type EmbeddedBroker, startEmbeddedBroker } from './broker/embedded-broker.js';
export { ConnectionError, ExitCode, InputError, MqimgError, TransferError, UsageError } from './errors.js';
export type { OutputFormat, PreparedImage, PrepareOptions } from './image/prepare-image.js';
export { webCrypto } from './platform/web-crypto.js';
export { FAILURE_CODES, type FailureCode, REJECTION_CODES, type RejectionCode } from './protocol/codes.js';
export { DEFAULT_CHUNK_BYTES, PROTOCOL_VERSION } from './protocol/constants.js';
export type { CryptoProvider } from './protocol/crypto.js';
export { type Manifest, manifestSchema, parseManifest } from './protocol/manifest.js';
export { type Status, statusSchema } from './protocol/status.js';
export { receiverSubscriptions } from './protocol/topics.js';
export { type ClearedTransfer, clearRetained } from './session/clear-retained.js';
export { loadSecret, loadSigningKey, loadTrustedKeys } from './session/key-files.js';
export type { SendSecurity, SigningKey } from './session/outgoing-transfer.js';
export {
  type ReceiveImagesOptions,
  type ReceivingHandle,
  receiveImages,
  type StartReceivingOptions,
  startReceiving,
} from './session/receive-images.js';
export { type ReceiveEvent, Receiver, type ReceiverOptions } from './session/receiver.js';
export { type ImageInput, type SendImagesOptions, sendImages } from './session/send-images.js';
export type { SendProgress, SendResult } from './session/send-session.js';
export { type BrokerLimits, type ConnectOptions, MqttTransport } from './transport/mqtt-transport.js';
