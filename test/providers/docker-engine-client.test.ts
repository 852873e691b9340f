/** The engine client's calls whose answers need interpreting, against fake engines (no Podman). */
import { describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import type Docker from 'dockerode';
import { ensureImage } from '../../src/providers/docker/engine-client.js';

describe('docker engine client', () => {
  it('gives up on a pull the engine never answers, within the pull timeout', async () => {
    const missing = Object.assign(new Error('no such image'), { statusCode: 404 });
    const silent = {
      getImage: () => ({ inspect: () => Promise.reject(missing) }),
      pull: () => new Promise(() => undefined),
    } as unknown as Docker;
    await assert.rejects(
      ensureImage(silent, 'example/never:1', undefined, 200),
      /example\/never:1 could not be pulled: pulling example\/never:1 did not answer within 200 ms/,
    );
  });
});
