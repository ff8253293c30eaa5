export { readEncryptionKeys } from './config.ts';
export { DecryptionError, type EncryptionKeys, parseEncryptionKey, Sealer } from './encryption.ts';
export {
  CONNECTION_ID_PATTERN,
  type Connection,
  type ConnectionStatus,
  ConnectionStore,
  newConnectionId,
  type OAuthFlow,
} from './store.ts';
