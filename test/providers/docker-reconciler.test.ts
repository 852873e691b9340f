/**
 * The docker reconciler without an engine: fake engine clients stand in for hosts, so what it
 * does with hosts that do not answer is checked without Podman.
 */
import { describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import type Docker from 'dockerode';
import { loadConfig } from '../../src/config.js';
import type { HostRecord } from '../../src/domain/records.js';
import { createReconciler } from '../../src/providers/docker/reconciler.js';

const host = (id: number): HostRecord => ({
  id,
  name: `silent-${id}`,
  endpoint: { kind: 'socket', path: `/nowhere/${id}.sock` },
  publicIp: '127.0.0.1',
  place: {
    city: 'Local',
    country: 'Local',
    continent: 'Local',
    administrativeDivision: '',
    region: '',
    timezone: 'UTC',
    latitude: null,
    longitude: null,
  },
  cpuUnits: 1024,
  memoryMb: 1024,
  portMin: 40000,
  portMax: 40010,
  tags: [],
  state: 'active',
  stateDetail: null,
  unreachableSince: null,
  usedCpuUnits: 0,
  usedMemoryMb: 0,
  usedPorts: 0,
  createdAt: new Date(0),
  updatedAt: new Date(0),
});

describe('docker reconciler', () => {
  it('asks every host at once, so hosts that do not answer cost one engine timeout, not one each', async () => {
    const hosts = [1, 2, 3, 4].map(host);
    let asked = 0;
    const askedWhenReported: number[] = [];
    // An engine that never answers a listing.
    const silent = {
      listContainers: () => {
        asked += 1;
        return new Promise(() => undefined);
      },
    } as unknown as Docker;
    const reconciler = createReconciler({
      config: { ...loadConfig({}).docker, engineTimeoutMs: 200 },
      reporter: {
        ready: async () => undefined,
        failed: async () => undefined,
        hostAnswered: async () => undefined,
        log: () => undefined,
        hostUnanswered: async () => {
          askedWhenReported.push(asked);
        },
      },
      clientFor: () => silent,
      hosts: async () => hosts,
      liveDeployments: async () => [],
      deploymentStatuses: async () => new Map(),
      isWatched: () => false,
      adopt: () => undefined,
      isClosing: () => false,
    });
    await reconciler.reconcileHosts();
    reconciler.close();
    assert.deepEqual(askedWhenReported, [4, 4, 4, 4]);
  });
});
