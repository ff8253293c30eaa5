// node packages/simulator/src/cli.ts — a standalone Auphonic simulator (demo, compose profile).
import { AuphonicSimulator } from './simulator.ts';

const apiKey = process.env.SIMULATOR_API_KEY;
if (!apiKey) {
  process.stderr.write('SIMULATOR_API_KEY: is required\n');
  process.exit(78);
}
const sim = await AuphonicSimulator.start({
  apiKey,
  host: process.env.SIMULATOR_HOST ?? '127.0.0.1',
  apiPort: Number(process.env.SIMULATOR_PORT ?? 4010),
  storagePort: Number(process.env.SIMULATOR_STORAGE_PORT ?? 4011),
  publicUrl: process.env.SIMULATOR_PUBLIC_URL,
  publicStorageUrl: process.env.SIMULATOR_PUBLIC_STORAGE_URL,
});
process.stdout.write(`${JSON.stringify({ msg: 'auphonic simulator ready', api: sim.baseUrl.origin, storage: sim.storageUrl.origin })}\n`);
const stop = () => void sim.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
