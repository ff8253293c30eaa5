// The worker's METRICS_PORT server (/metrics, /livez, /healthz) is the one every service shares.
export { createOpsServer } from '@auphonic-bridge/metrics';
