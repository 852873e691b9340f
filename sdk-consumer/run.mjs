// Runs the compiled matchmaker (tsc -p . --outDir out) against RALLYPOINT_URL with RALLYPOINT_API_KEY
// and prints what it got as one JSON line.
import { run } from './out/main.js';

const result = await run(process.env.RALLYPOINT_URL ?? 'http://127.0.0.1:8080', process.env.RALLYPOINT_API_KEY ?? '');
console.log(JSON.stringify(result));
