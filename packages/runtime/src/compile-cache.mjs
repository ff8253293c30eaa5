// Loaded first (node --import) by every service's start command: Node then keeps what it
// compiles, the stripped TypeScript included, in its compile cache (the OS's temp directory).
// A start after the first loads no TypeScript stripper (about 20 MB less resident memory) and
// compiles nothing again.
import { enableCompileCache } from 'node:module';

enableCompileCache();
