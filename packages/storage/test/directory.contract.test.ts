import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectoryDriver } from '../src/directory-driver.ts';
import { describeStorageContract } from './contract.ts';

describeStorageContract(
  'directory',
  async () => {
    const root = await mkdtemp(join(tmpdir(), 'bridge-contract-'));
    return { driver: new DirectoryDriver(root), close: () => rm(root, { recursive: true, force: true }) };
  },
  { bigSize: 3 * 1024 * 1024 + 17 },
);
