import type { Provider } from './provider.js';

export const REGISTERED_PROVIDER = 'registered';

/**
 * Game servers that something else runs, registered through the API. Rallypoint only seats
 * players on them: it cannot start one, and stopping one only stops placing sessions on it.
 */
export function createRegisteredProvider(): Provider {
  return {
    name: REGISTERED_PROVIDER,
    locations: () => [],
    start: async () => {
      throw new Error('registered servers are started by their operator, not by Rallypoint');
    },
    stop: async () => {},
  };
}
