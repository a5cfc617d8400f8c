/**
 * The Kubernetes example (deploy/kubernetes/) agrees with the gateway: probes on its routes and
 * port, a preStop drain as long as the gateway's own, grace periods that cover the drain and the
 * shutdown timeout (workers: a job's deadline), config from the Secret that the gateway accepts.
 * And the README's HAProxy example is the configuration the cluster tests run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { gatewaySettingsSpec, loadGatewaySettings } from '../gateway/config/settings.ts';
import { listVariables } from '../gateway/config/variables.ts';
import { selectAll } from '../gateway/plugin/selection.ts';
import { registry } from '../plugins/registry.ts';
import { haproxyConfig } from './support/cluster.ts';

const DIR = new URL('../deploy/kubernetes/', import.meta.url);

interface Resource {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: Record<string, unknown>;
  stringData?: Record<string, string>;
}
interface Container {
  name: string;
  command?: string[];
  ports?: { name: string; containerPort: number }[];
  env?: { name: string; value: string }[];
  envFrom?: { secretRef?: { name: string } }[];
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
}
interface Probe {
  httpGet: { path: string; port: string | number };
}
interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: { terminationGracePeriodSeconds: number; containers: Container[] };
}

const resources: Resource[] = readdirSync(DIR)
  .filter((file) => file.endsWith('.yaml'))
  .flatMap((file) => parseAllDocuments(readFileSync(new URL(file, DIR), 'utf8')).map((doc) => doc.toJS() as Resource));
const find = (kind: string, name: string) => {
  const found = resources.find((r) => r.kind === kind && r.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in deploy/kubernetes/`);
  return found;
};
const template = (name: string) => find('Deployment', name).spec['template'] as PodTemplate;
const defaultOf = (key: string) => gatewaySettingsSpec.schema![key]!.default as number;
const envOf = (container: Container) => Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value]));

const secret = find('Secret', 'plugboard');
const gatewayPod = template('plugboard-gateway');
const gateway = gatewayPod.spec.containers[0]!;
const workerPod = template('plugboard-worker');
const worker = workerPod.spec.containers[0]!;

describe('deploy/kubernetes', () => {
  it('probes the gateway on its own routes and port', () => {
    const port = gateway.ports!.find((p) => p.name === 'http')!.containerPort;
    expect(String(port)).toBe(envOf(gateway)['PORT']);
    expect(gateway.readinessProbe!.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(gateway.livenessProbe!.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(gateway.startupProbe!.httpGet).toEqual({ path: '/healthz', port: 'http' });
    const service = find('Service', 'plugboard-gateway');
    expect(service.spec['selector']).toEqual(gatewayPod.metadata.labels);
    expect(service.spec['ports']).toEqual([expect.objectContaining({ targetPort: 'http' })]);
  });

  it('drains in preStop for as long as the gateway would, within the grace period', () => {
    const preStop = gateway.lifecycle!.preStop!.exec!.command;
    expect(preStop[0]).toBe('sleep');
    const drainSeconds = Number(preStop[1]);
    expect(drainSeconds * 1000).toBe(defaultOf('PLUGBOARD_SHUTDOWN_DELAY_MS'));
    // SIGTERM comes after the preStop drain: the gateway need not wait again.
    expect(envOf(gateway)['PLUGBOARD_SHUTDOWN_DELAY_MS']).toBe('0');
    const shutdownTimeoutMs = Number(envOf(gateway)['PLUGBOARD_SHUTDOWN_TIMEOUT_MS']);
    expect(shutdownTimeoutMs).toBe(defaultOf('PLUGBOARD_SHUTDOWN_TIMEOUT_MS'));
    expect(gatewayPod.spec.terminationGracePeriodSeconds).toBeGreaterThan(drainSeconds + shutdownTimeoutMs / 1000);
  });

  it('runs job workers apart, with the time to finish a job when stopped', () => {
    expect(envOf(gateway)['PLUGBOARD_WORKERS']).toBe('false');
    expect(worker.command).toEqual(['node', 'bin/plugboard.js', 'jobs', 'worker']);
    const jobs = selectAll(registry).find((s) => s.manifest.name === 'jobs')!.manifest.configuration;
    const jobTimeoutMs = Number(envOf(worker)['JOBS_JOB_TIMEOUT']);
    expect(jobTimeoutMs).toBe(jobs.schema!['JOBS_JOB_TIMEOUT']!.default);
    expect(workerPod.spec.terminationGracePeriodSeconds).toBeGreaterThan(jobTimeoutMs / 1000);
  });

  it('keeps one gateway at a time out under voluntary disruptions', () => {
    const budget = find('PodDisruptionBudget', 'plugboard-gateway');
    expect(budget.spec['selector']).toEqual({ matchLabels: gatewayPod.metadata.labels });
    expect(budget.spec['maxUnavailable']).toBe(1);
    expect(find('Deployment', 'plugboard-gateway').spec['replicas']).toBeGreaterThan(1);
  });

  it('configures both from the Secret, with variables the gateway and its plugins know and accept', () => {
    for (const container of [gateway, worker])
      expect(container.envFrom).toEqual([{ secretRef: { name: 'plugboard' } }]);
    const known = new Set([
      ...listVariables(gatewaySettingsSpec).map((v) => v.key),
      ...selectAll(registry).flatMap((s) => listVariables(s.manifest.configuration).map((v) => v.key)),
    ]);
    const config = { ...secret.stringData!, ...envOf(gateway) };
    expect(Object.keys(config).filter((key) => !known.has(key))).toEqual([]);
    expect(loadGatewaySettings(config)).toMatchObject({ workers: false, host: '0.0.0.0', shutdownDelayMs: 0 });
  });
});

describe('README, Running several instances', () => {
  it('shows the HAProxy configuration the cluster tests run', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const example = haproxyConfig({
      bind: '*:80',
      stats: '127.0.0.1:8404',
      servers: ['10.0.0.11:4000', '10.0.0.12:4000', '10.0.0.13:4000'],
    });
    expect(readme).toContain(`\n\`\`\`haproxy\n${example}\`\`\`\n`);
  });
});
