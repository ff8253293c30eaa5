import type { Command, OptionSpec } from './command.ts';

// What each command is, for --help and the parser; its code is in commands/, loaded when it runs.

const TARGET: Readonly<Record<string, OptionSpec>> = {
  preset: { type: 'string', value: 'UUID', description: 'the preset (every production made from it from now on)' },
  production: { type: 'string', value: 'UUID', description: 'one production' },
};

const CONNECTION: Readonly<Record<string, OptionSpec>> = {
  connection: { type: 'string', value: 'ID', description: "an External Service connection's production (default: the API key's account)" },
};

const WEBHOOK_SETTINGS = [
  'Reads AUPHONIC_API_KEY and AUPHONIC_BASE_URL (the account), PUBLIC_URL and WEBHOOK_SECRET',
  '(and WEBHOOK_SECRET_PREVIOUS): our webhook URL is PUBLIC_URL/webhooks/auphonic/<WEBHOOK_SECRET>.',
  'The secret is never printed: it shows as [redacted].',
];

export const COMMANDS: readonly Command[] = [
  {
    path: ['webhook', 'set'],
    summary: 'Point a preset or a production at this bridge (our webhook URL, through the API)',
    args: '(--preset UUID | --production UUID) [--replace]',
    description: [
      "A production's webhook is its `webhook` field (POST /api/production/{uuid}.json). A preset's is",
      "added to its list (/api/preset/{uuid}/webhook.json, another receiver's webhook stays) or, where",
      'the API has no such list, set as its `webhook` field (POST /api/preset/{uuid}.json). Our URL with',
      "an old secret is removed. A field holding another receiver's webhook is replaced only with --replace.",
      'Then the webhook is read back: exit 1 unless Auphonic shows it.',
      ...WEBHOOK_SETTINGS,
    ],
    options: { ...TARGET, replace: { type: 'boolean', description: "replace another receiver's webhook where the target holds only one" } },
    positionals: [],
    load: () => import('./commands/webhook-set.ts').then((m) => m.run),
  },
  {
    path: ['webhook', 'show'],
    summary: "Show a preset's or a production's webhooks, and whether one points at this bridge",
    args: '(--preset UUID | --production UUID)',
    description: [
      'Each webhook is this bridge (WEBHOOK_SECRET), this bridge with WEBHOOK_SECRET_PREVIOUS, this',
      "bridge's address with a secret it no longer accepts, or another receiver. Changes nothing.",
      ...WEBHOOK_SETTINGS,
    ],
    options: TARGET,
    positionals: [],
    load: () => import('./commands/webhook-show.ts').then((m) => m.run),
  },
  {
    path: ['webhook', 'delete'],
    summary: "Remove this bridge's webhook from a preset or a production (another receiver's stays)",
    args: '(--preset UUID | --production UUID)',
    description: [
      'Removes every webhook of this bridge (any secret): a production\'s field is emptied ("" removes it),',
      "a preset's list loses our URLs (or its field is emptied where it holds ours). Then the webhooks",
      'are read back: exit 1 if one of ours is still there. Nothing of ours there: nothing changes, exit 0.',
      ...WEBHOOK_SETTINGS,
    ],
    options: TARGET,
    positionals: [],
    load: () => import('./commands/webhook-delete.ts').then((m) => m.run),
  },
  {
    path: ['replay'],
    summary: 'Queue a production again (--force: download and verify every file again)',
    args: 'UUID [--connection ID] [--force]',
    description: [
      'Adds a production job as a webhook would (one already waiting is joined, not doubled). Without',
      '--force the worker downloads nothing for a production whose details have not changed since its',
      "record; with --force it downloads and verifies every file again. The same as the admin API's",
      'POST /api/productions/{uuid}/replay. Reads REDIS_URL and QUEUE_PREFIX; with --connection also',
      'ENCRYPTION_KEY (the connection must exist).',
    ],
    options: { ...CONNECTION, force: { type: 'boolean', description: 'download even when the record says nothing changed' } },
    positionals: ['UUID'],
    load: () => import('./commands/replay.ts').then((m) => m.run),
  },
  {
    path: ['status'],
    summary: "A production's job (state, attempts, last error) and its record in storage (outcome, files, sizes)",
    args: 'UUID [--connection ID]',
    description: [
      'The job is the one waiting, delayed or running for the production, else the newest finished one',
      'BullMQ keeps (completed 7 days, failed 30). The record is auphonic-production.json beside the files.',
      'Exit 1 when neither is found. Changes nothing. Reads REDIS_URL, QUEUE_PREFIX and the storage',
      'settings (STORAGE_DIR or STORAGE_URL, S3_*) as the worker does.',
    ],
    options: CONNECTION,
    positionals: ['UUID'],
    load: () => import('./commands/status.ts').then((m) => m.run),
  },
  {
    path: ['connections', 'list'],
    summary: 'The External Service connections: id, display_name, Auphonic user, status, notify URL',
    args: '',
    description: [
      'As the admin API lists them, never their tokens. Reads REDIS_URL, QUEUE_PREFIX and ENCRYPTION_KEY',
      '(as the ingress and the worker do in External Service mode).',
    ],
    options: {},
    positionals: [],
    load: () => import('./commands/connections-list.ts').then((m) => m.run),
  },
];
