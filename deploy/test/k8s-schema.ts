/**
 * Validates Kubernetes objects against the schemas of their apiVersion and kind, offline.
 * `kubernetes-models` ships, for every core kind, a validator compiled (Ajv) from the
 * Kubernetes OpenAPI definitions; `@kubernetes-models/keda` does the same from KEDA's CRDs.
 * They check types, formats (quantities, int32), enums and required fields. Like the API's
 * OpenAPI schemas they accept unknown fields: the tests assert the fields that matter by name.
 */
import type { K8sObject } from './kustomize.ts';

/** Where the models of a CRD group live; core and k8s.io groups are in kubernetes-models. */
const CRD_PACKAGES: Record<string, string> = {
  'keda.sh': '@kubernetes-models/keda',
};

interface ModelClass {
  new (data: unknown): { validate(): void };
}

function modelModule(apiVersion: string, kind: string): string {
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  const pkg = group === '' || !group.includes('.') || group.endsWith('.k8s.io') ? 'kubernetes-models' : CRD_PACKAGES[group];
  if (!pkg) throw new Error(`no schema package for ${apiVersion} ${kind}`);
  return `${pkg}/${apiVersion}/${kind}`;
}

/** Throws, naming the object and every schema violation, unless it validates. */
export async function validateObject(obj: K8sObject): Promise<void> {
  const where = `${obj.kind}/${obj.metadata.name} (${obj.apiVersion})`;
  let mod: Record<string, unknown>;
  try {
    mod = await import(modelModule(obj.apiVersion, obj.kind));
  } catch (cause) {
    throw new Error(`${where}: no schema for this apiVersion and kind`, { cause });
  }
  const Model = mod[obj.kind] as ModelClass | undefined;
  if (typeof Model !== 'function') throw new Error(`${where}: no schema for this kind`);
  try {
    new Model(obj).validate();
  } catch (err) {
    throw new Error(`${where}: ${(err as Error).message}`);
  }
}
