/**
 * Preload for profiling a server process (Node 20 refuses --cpu-prof in NODE_OPTIONS):
 *   BENCH_SERVER_NODE_OPTIONS="--import ./dist/bench/cpu-profile.js" npm run bench
 * Writes a .cpuprofile (open in Chrome DevTools, or summarise with dist/bench/profile-top.js)
 * into BENCH_PROFILE_DIR (default /tmp) when the process exits.
 */
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';

const session = new Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.setSamplingInterval', { interval: 200 });
session.post('Profiler.start');
process.on('exit', () => {
  // The main-thread inspector session answers synchronously, so this runs before exit completes.
  session.post('Profiler.stop', (error, result) => {
    if (error) return;
    const file = `${process.env['BENCH_PROFILE_DIR'] ?? '/tmp'}/rallypoint-${process.pid}.cpuprofile`;
    writeFileSync(file, JSON.stringify(result.profile));
  });
});
