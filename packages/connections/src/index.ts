export { DecryptionError, parseEncryptionKey, Sealer } from './encryption.ts';
export { CONNECTION_ID_PATTERN, type Connection, type ConnectionStatus, ConnectionStore, newConnectionId } from './store.ts';
